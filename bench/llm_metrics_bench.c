/* llm_metrics_bench.c — the llm_metrics connector and the prometheus exporter in one process:
 * CPU per span of the connector's consume() (with its timer's exports), both when it must build
 * the request's span index and when the index already exists (genai_semconv / cost built it),
 * and, for comparison, through its struct reader on a decoded face (how it read spans before the
 * index), set against the codec floor (protobuf-c unpack + pack of the very same requests)
 * measured in the same run; the heap per
 * series of the connector's series store; and the prometheus exporter's consume and render per
 * series, set against the codec floor of the connector's own export request.
 *
 * The one idea: components are created through their factories and driven by one thread with
 * no network and no timer thread (llm_metrics_flush stands in for the timer, once every
 * --export-every requests), so the process's CPU clock and glibc's heap counters see the
 * connector and the exporter and nothing else. Figures are printed only after a checked pass:
 * the export's totals (requests, errors, tokens, cost, histogram counts, one rate-limit series
 * per tenant) equal what this program put into the spans, on every path, and the rendered text has one counter line per request.count point.
 *
 * The requests: the LLM-gateway generator of bench_common.h (HTTP root + 1–4 LLM client spans of
 * five models, 500 tenants, ~2% failing), with what the default pipeline puts on an LLM span
 * before the connector sees it: the cost processor's gen_ai.usage.cost.{amount,currency,source}
 * (llmotlp.cost.unpriced=true for the model without a price), a rate-limit figure (OpenAI spans
 * as the semconv header array http.response.header.x-ratelimit-remaining-requests, the others as
 * llmproxy.ratelimit.remaining) and error.type on failed calls.
 *
 * usage: llm_metrics_bench [--spans 500] [--pool 32] [--seed 1] [--seconds 1]
 *                          [--export-every 32] */
#include <inttypes.h>
#include <malloc.h>
#include <math.h>

#include "bench/bench_common.h"
#include "connectors/llm_metrics/llm_metrics.h"
#include "connectors/llm_metrics/series.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/telemetry.h"
#include "core/wire_index.h"
#include "exporters/prometheus/prometheus_exporter.h"

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"

#define REQ_UNPACK opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack
#define REQ_FREE opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked
#define REQ_SIZE opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size
#define REQ_PACK opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack
#define MREQ_UNPACK opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack
#define MREQ_SIZE \
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__get_packed_size
#define MREQ_PACK opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__pack

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest trace_req;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest metrics_req;
typedef Opentelemetry__Proto__Metrics__V1__Metric otlp_metric;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint otlp_ndp;

#define V_STRING OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define V_INT OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
#define V_DOUBLE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE
#define V_BOOL OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE
#define V_ARRAY OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE
#define ST_ERROR OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR
#define LABELS "connector=\"llm_metrics\""
#define NTENANTS 500                   /* bench_request_build's tenant-0000 .. tenant-0499 */

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "llm_metrics_bench: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exit(1);
}

/* Heap in use: arena chunks plus mmap'd blocks (large tables are mmap'd by glibc). */
static int64_t heap_used(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (int64_t)(mi.uordblks + mi.hblkhd);
}

static double per_million(double cpu, uint64_t n)
{
    return n ? cpu / ((double)n / 1e6) : 0;
}

/* ---- prices (list prices of ../shared/pricing-reference.csv; the Llama model has none) ------- */

struct bench_price {
    const char *model;
    double input, output; /* per million tokens */
};
static const struct bench_price prices[] = {
    {"gpt-4o", 2.50, 10.00},
    {"gpt-4o-mini", 0.15, 0.60},
    {"claude-sonnet-4-5", 3.00, 15.00},
    {"gemini-2.5-pro", 1.25, 10.00},
};

static const struct bench_price *price_of(const char *request_model)
{
    for (size_t i = 0; i < sizeof prices / sizeof prices[0]; i++)
        if (strcmp(prices[i].model, request_model) == 0)
            return &prices[i];
    return NULL;
}

/* ---- requests: the generator's, with what the pipeline adds before the connector ----------- */

/* What the spans put in, for checking the export. */
struct expect {
    uint64_t llm, errors, in, out, unpriced;
    double cost_cents;
    bool tenant_seen[NTENANTS];
};

struct payload {
    uint8_t *data;
    size_t len;
    unsigned spans;
};

static const bench_kv *find(const bench_span *s, const char *key)
{
    for (size_t i = 0; i < s->n_attributes; i++)
        if (strcmp(s->attributes[i]->key, key) == 0)
            return s->attributes[i];
    return NULL;
}

/* Allocated with malloc so that free_unpacked (default allocator) releases them. */
static bench_kv *kv_new(const char *key)
{
    bench_kv *kv = malloc(sizeof *kv);
    bench_any *v = malloc(sizeof *v);
    if (!kv || !v)
        die("out of memory%s", "");
    opentelemetry__proto__common__v1__key_value__init(kv);
    opentelemetry__proto__common__v1__any_value__init(v);
    kv->key = strdup(key);
    kv->value = v;
    return kv;
}
static bench_kv *kv_str(const char *key, const char *s)
{
    bench_kv *kv = kv_new(key);
    kv->value->value_case = V_STRING;
    kv->value->string_value = strdup(s);
    return kv;
}
static bench_kv *kv_int(const char *key, int64_t i)
{
    bench_kv *kv = kv_new(key);
    kv->value->value_case = V_INT;
    kv->value->int_value = i;
    return kv;
}
static bench_kv *kv_double(const char *key, double d)
{
    bench_kv *kv = kv_new(key);
    kv->value->value_case = V_DOUBLE;
    kv->value->double_value = d;
    return kv;
}
static bench_kv *kv_bool(const char *key, bool b)
{
    bench_kv *kv = kv_new(key);
    kv->value->value_case = V_BOOL;
    kv->value->bool_value = b;
    return kv;
}
/* The semconv form of an HTTP header attribute: an array of one string. */
static bench_kv *kv_header(const char *key, const char *s)
{
    bench_kv *kv = kv_new(key);
    Opentelemetry__Proto__Common__V1__ArrayValue *arr = malloc(sizeof *arr);
    if (!arr)
        die("out of memory%s", "");
    opentelemetry__proto__common__v1__array_value__init(arr);
    arr->n_values = 1;
    arr->values = malloc(sizeof *arr->values);
    arr->values[0] = malloc(sizeof **arr->values);
    opentelemetry__proto__common__v1__any_value__init(arr->values[0]);
    arr->values[0]->value_case = V_STRING;
    arr->values[0]->string_value = strdup(s);
    kv->value->value_case = V_ARRAY;
    kv->value->array_value = arr;
    return kv;
}

static void span_append(bench_span *s, bench_kv *kv)
{
    bench_kv **a = realloc(s->attributes, (s->n_attributes + 1) * sizeof *a);
    if (!a)
        die("out of memory%s", "");
    a[s->n_attributes++] = kv;
    s->attributes = a;
}

/* One generated request with the LLM spans completed as the default pipeline leaves them. */
static struct payload enrich(const struct payload *raw, uint64_t *rng, struct expect *e)
{
    trace_req *r = REQ_UNPACK(NULL, raw->len, raw->data);
    if (!r)
        die("unpack failed%s", "");
    for (size_t i = 0; i < r->n_resource_spans; i++)
        for (size_t j = 0; j < r->resource_spans[i]->n_scope_spans; j++) {
            Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = r->resource_spans[i]->scope_spans[j];
            for (size_t k = 0; k < ss->n_spans; k++) {
                bench_span *s = ss->spans[k];
                const bench_kv *model = find(s, "gen_ai.request.model");
                if (!model)
                    continue;
                const bench_kv *in = find(s, "gen_ai.usage.input_tokens");
                const bench_kv *out = find(s, "gen_ai.usage.output_tokens");
                const bench_kv *prov = find(s, "gen_ai.provider.name");
                const bench_kv *tenant = find(s, "tenant.id");
                unsigned t;
                if (!in || !out || !prov || !tenant ||
                    sscanf(tenant->value->string_value, "tenant-%u", &t) != 1 || t >= NTENANTS)
                    die("the generator's LLM span changed shape%s", "");
                e->llm++;
                e->in += (uint64_t)in->value->int_value;
                e->out += (uint64_t)out->value->int_value;
                e->tenant_seen[t] = true;
                const struct bench_price *p = price_of(model->value->string_value);
                if (p) {
                    double amount = ((double)in->value->int_value * p->input +
                                     (double)out->value->int_value * p->output) / 1e6;
                    e->cost_cents += amount * 100;
                    span_append(s, kv_double("gen_ai.usage.cost.amount", amount));
                    span_append(s, kv_str("gen_ai.usage.cost.currency", "USD"));
                    span_append(s, kv_str("gen_ai.usage.cost.source", "local"));
                } else {
                    e->unpriced++;
                    span_append(s, kv_bool("llmotlp.cost.unpriced", true));
                }
                int64_t remaining = bench_below(rng, 1000);
                if (strcmp(prov->value->string_value, "openai") == 0) {
                    char num[24];
                    snprintf(num, sizeof num, "%" PRId64, remaining);
                    span_append(s, kv_header("http.response.header.x-ratelimit-remaining-requests",
                                             num));
                } else {
                    span_append(s, kv_int("llmproxy.ratelimit.remaining", remaining));
                }
                if (s->status && s->status->code == ST_ERROR) {
                    e->errors++;
                    span_append(s, kv_str("error.type", "429"));
                }
            }
        }
    struct payload p = {.len = REQ_SIZE(r), .spans = raw->spans};
    p.data = malloc(p.len);
    if (!p.data)
        die("out of memory%s", "");
    REQ_PACK(r, p.data);
    REQ_FREE(r, NULL);
    return p;
}

/* ---- the connector, and the metrics pipeline it feeds ---------------------------------------- */

/* next[SIGNAL_METRICS]: takes the export (keeps the latest one for the exporter lines). */
struct msink {
    struct consumer c;
    struct batch *last;
    uint64_t exports, points;
};

static enum consume_status msink_consume(struct consumer *c, struct batch *b)
{
    struct msink *k = (struct msink *)c;
    if (b->signal != SIGNAL_METRICS)
        die("the connector sent a batch of another signal%s", "");
    batch_unref(k->last);
    k->last = batch_ref(b);
    k->exports++;
    k->points += b->items;
    return CONSUME_OK;
}

/* The service's span-index interest: the connector declares its keys in it at create, and the
 * batches are indexed with it, as in a running service. */
static struct wire_interest *interest;

struct conn {
    struct llm_metrics_config cfg;
    struct telemetry *tel;
    struct msink sink;
    void *lm;
};

static void conn_new(struct conn *c, const char *yaml, bool structs)
{
    memset(c, 0, sizeof *c);
    struct error err = {0};
    const struct component_factory *f = &llm_metrics_connector_factory;
    struct cnode *node = config_parse_string(yaml, "llm_metrics", &err);
    if (!node || config_bind(f->fields, node, &c->cfg, &err) != 0 ||
        f->validate(&c->cfg, &err) != 0)
        die("config: %s", err.msg);
    cnode_free(node);
    c->tel = telemetry_new();
    c->sink.c.consume = msink_consume;
    struct component_env env = {.id = "llm_metrics", .log_name = "connector/llm_metrics",
                                .signal = SIGNAL_TRACES, .telemetry = c->tel,
                                .interest = interest};
    env.next[SIGNAL_METRICS] = &c->sink.c;
    /* Not started: no timer thread; llm_metrics_flush() runs its exports. */
    c->lm = f->create(&c->cfg, &env, &err);
    if (!c->lm)
        die("create: %s", err.msg);
    llm_metrics_read_structs(c->lm, structs);
}

static void conn_free(struct conn *c)
{
    llm_metrics_connector_factory.destroy(c->lm);
    batch_unref(c->sink.last);
    config_free_bound(llm_metrics_connector_factory.fields, &c->cfg);
    telemetry_free(c->tel);
}

static int64_t conn_series(struct conn *c)
{
    return telemetry_value(c->tel, "llmotlp_llm_metrics_series", LABELS);
}

static void conn_consume(struct conn *c, struct batch *b)
{
    if (llm_metrics_connector_factory.consume(c->lm, b) != CONSUME_OK)
        die("the connector refused a request%s", "");
}

static void conn_flush(struct conn *c)
{
    if (llm_metrics_flush(c->lm) != CONSUME_OK)
        die("an export was refused%s", "");
}

/* ---- checking an export ------------------------------------------------------------------------ */

static const char *point_attr(const otlp_ndp *p, const char *key)
{
    for (size_t i = 0; i < p->n_attributes; i++)
        if (strcmp(p->attributes[i]->key, key) == 0 && p->attributes[i]->value->value_case == V_STRING)
            return p->attributes[i]->value->string_value;
    return NULL;
}

struct got {
    uint64_t requests, errors, in, out, op_count, usage_count, ratelimit_series, count_points;
    uint64_t usage_points;
    double cost_cents;
};

static struct got tally_export(struct batch *b)
{
    struct got g = {0};
    struct error err = {0};
    const metrics_req *r = (const metrics_req *)batch_decoded(b, &err);
    if (!r)
        die("export: %s", err.msg);
    for (size_t i = 0; i < r->n_resource_metrics; i++)
        for (size_t j = 0; j < r->resource_metrics[i]->n_scope_metrics; j++) {
            const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm =
                r->resource_metrics[i]->scope_metrics[j];
            for (size_t k = 0; k < sm->n_metrics; k++) {
                const otlp_metric *m = sm->metrics[k];
                if (strcmp(m->name, "llmproxy.request.count") == 0) {
                    for (size_t n = 0; n < m->sum->n_data_points; n++) {
                        const otlp_ndp *p = m->sum->data_points[n];
                        const char *st = point_attr(p, "status");
                        g.requests += (uint64_t)p->as_int;
                        if (st && strcmp(st, "error") == 0)
                            g.errors += (uint64_t)p->as_int;
                        g.count_points++;
                    }
                } else if (strcmp(m->name, "llmproxy.tokens.input") == 0) {
                    for (size_t n = 0; n < m->sum->n_data_points; n++)
                        g.in += (uint64_t)m->sum->data_points[n]->as_int;
                } else if (strcmp(m->name, "llmproxy.tokens.output") == 0) {
                    for (size_t n = 0; n < m->sum->n_data_points; n++)
                        g.out += (uint64_t)m->sum->data_points[n]->as_int;
                } else if (strcmp(m->name, "llmproxy.cost.estimated") == 0) {
                    for (size_t n = 0; n < m->sum->n_data_points; n++)
                        g.cost_cents += m->sum->data_points[n]->as_double;
                } else if (strcmp(m->name, "llmproxy.ratelimit.remaining") == 0) {
                    g.ratelimit_series += m->gauge->n_data_points;
                } else if (strcmp(m->name, "gen_ai.client.operation.duration") == 0) {
                    for (size_t n = 0; n < m->histogram->n_data_points; n++)
                        g.op_count += m->histogram->data_points[n]->count;
                } else if (strcmp(m->name, "gen_ai.client.token.usage") == 0) {
                    g.usage_points += m->histogram->n_data_points;
                    for (size_t n = 0; n < m->histogram->n_data_points; n++)
                        g.usage_count += m->histogram->data_points[n]->count;
                }
            }
        }
    return g;
}

/* The export after `passes` passes of the pool must hold exactly what the spans carried. */
static void check_export(const char *what, struct batch *b, const struct expect *e, uint64_t passes)
{
    struct got g = tally_export(b);
    uint64_t tenants = 0;
    for (unsigned t = 0; t < NTENANTS; t++)
        tenants += e->tenant_seen[t];
    double want_cost = e->cost_cents * (double)passes;
    bool ok = g.requests == e->llm * passes && g.errors == e->errors * passes &&
              g.in == e->in * passes && g.out == e->out * passes &&
              fabs(g.cost_cents - want_cost) <= 1e-9 * want_cost && g.op_count == e->llm * passes &&
              g.usage_count == 2 * e->llm * passes && g.ratelimit_series == tenants;
    if (!ok) {
        fprintf(stderr,
                "llm_metrics_bench: %s: export holds requests %" PRIu64 " (want %" PRIu64
                "), errors %" PRIu64 " (%" PRIu64 "), input tokens %" PRIu64 " (%" PRIu64
                "), output tokens %" PRIu64 " (%" PRIu64 "), cost %.6f cents (%.6f), operation "
                "duration count %" PRIu64 ", token usage count %" PRIu64 ", rate-limit series %"
                PRIu64 " (%" PRIu64 " tenants)\n",
                what, g.requests, e->llm * passes, g.errors, e->errors * passes, g.in,
                e->in * passes, g.out, e->out * passes, g.cost_cents, want_cost, g.op_count,
                g.usage_count, g.ratelimit_series, tenants);
        exit(1);
    }
}

/* ---- timed passes ---------------------------------------------------------------------------- */

/* Unindexed: the batches are made from the wire (as the receiver does) before the clock runs;
 * timed are the connector's consume (which builds the span index), the release of the batch (its
 * index with it) and one export per `every` requests. */
static double pass_undecoded(struct conn *c, const struct payload *pool, unsigned n,
                             struct batch **tmp, unsigned every, uint64_t *reqs, uint64_t *spans)
{
    for (unsigned i = 0; i < n; i++) {
        struct error err = {0};
        tmp[i] = batch_from_wire(SIGNAL_TRACES, pool[i].data, pool[i].len, &err);
        if (!tmp[i])
            die("batch_from_wire: %s", err.msg);
    }
    double c0 = bench_cpu();
    for (unsigned i = 0; i < n; i++) {
        conn_consume(c, tmp[i]);
        batch_unref(tmp[i]);
        if (++*reqs % every == 0)
            conn_flush(c);
        *spans += pool[i].spans;
    }
    return bench_cpu() - c0;
}

/* Prepared: the batches' index and decoded face were made before (as genai_semconv / cost leave
 * the index; the struct reader reads the decoded face). */
static double pass_decoded(struct conn *c, struct batch **dec, const struct payload *pool,
                           unsigned n, unsigned every, uint64_t *reqs, uint64_t *spans)
{
    double c0 = bench_cpu();
    for (unsigned i = 0; i < n; i++) {
        conn_consume(c, dec[i]);
        if (++*reqs % every == 0)
            conn_flush(c);
        *spans += pool[i].spans;
    }
    return bench_cpu() - c0;
}

/* The same pass for the struct reader, under a name of its own so that a profile (perf record
 * --call-graph dwarf) tells its samples from the index reader's. */
__attribute__((noinline)) static double pass_structs(struct conn *c, struct batch **dec,
                                                     const struct payload *pool, unsigned n,
                                                     unsigned every, uint64_t *reqs,
                                                     uint64_t *spans)
{
    double cpu = pass_decoded(c, dec, pool, n, every, reqs, spans);
    __asm__ volatile("" ::: "memory"); /* not a tail call: the frame stays on the stack */
    return cpu;
}

/* The decode alone, as the connector's batch_decoded() does it on a fresh batch, + release. */
static double pass_decode_only(const struct payload *pool, unsigned n, struct batch **tmp,
                               uint64_t *spans)
{
    for (unsigned i = 0; i < n; i++) {
        struct error err = {0};
        tmp[i] = batch_from_wire(SIGNAL_TRACES, pool[i].data, pool[i].len, &err);
        if (!tmp[i])
            die("batch_from_wire: %s", err.msg);
    }
    double c0 = bench_cpu();
    for (unsigned i = 0; i < n; i++) {
        struct error err = {0};
        if (!batch_decoded(tmp[i], &err))
            die("decode: %s", err.msg);
        batch_unref(tmp[i]);
        *spans += pool[i].spans;
    }
    return bench_cpu() - c0;
}

/* The index build alone, as the connector's batch_index() does it on a fresh batch, + release. */
static double pass_index_only(const struct payload *pool, unsigned n, struct batch **tmp,
                              uint64_t *spans)
{
    for (unsigned i = 0; i < n; i++) {
        struct error err = {0};
        tmp[i] = batch_from_wire(SIGNAL_TRACES, pool[i].data, pool[i].len, &err);
        if (!tmp[i])
            die("batch_from_wire: %s", err.msg);
    }
    double c0 = bench_cpu();
    for (unsigned i = 0; i < n; i++) {
        struct error err = {0};
        if (!batch_index(tmp[i], interest, &err))
            die("index: %s", err.msg);
        batch_unref(tmp[i]);
        *spans += pool[i].spans;
    }
    return bench_cpu() - c0;
}

static double pass_floor(const struct payload *pool, unsigned n, struct arena *a, uint8_t *out,
                         uint64_t *spans)
{
    double c0 = bench_cpu();
    for (unsigned i = 0; i < n; i++) {
        trace_req *r = REQ_UNPACK(arena_allocator(a), pool[i].len, pool[i].data);
        if (!r)
            die("unpack failed%s", "");
        size_t len = REQ_SIZE(r);
        if (REQ_PACK(r, out) != len || len != pool[i].len)
            die("pack size differs%s", "");
        arena_reset(a);
        *spans += pool[i].spans;
    }
    return bench_cpu() - c0;
}

/* ---- memory: distinct series from distinct tenants --------------------------------------------- */

/* A request of `n` LLM spans, each with a tenant of its own (tenant-<*next>...), as a decoded
 * face: each new tenant adds its request.count, token, cost and rate-limit series, while the
 * provider/model histograms stay few, as they do when tenants grow in real traffic. */
static struct batch *tenant_request(unsigned n, unsigned *next, uint64_t *rng)
{
    struct arena *a = arena_new(64 * 1024);
    if (!a)
        die("out of memory%s", "");
    Opentelemetry__Proto__Resource__V1__Resource *res = arena_alloc(a, sizeof *res);
    opentelemetry__proto__resource__v1__resource__init(res);
    res->n_attributes = 1;
    res->attributes = arena_alloc(a, sizeof *res->attributes);
    res->attributes[0] = bench_kv_str(a, "service.name", "llm-gateway");
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = arena_alloc(a, sizeof *ss);
    opentelemetry__proto__trace__v1__scope_spans__init(ss);
    ss->spans = arena_alloc(a, n * sizeof *ss->spans);
    static const uint8_t trace_id[16] = {1};
    for (unsigned i = 0; i < n; i++) {
        const struct bench_model *m = &bench_models[bench_below(rng, BENCH_NMODELS)];
        uint64_t t0 = 1700000000ULL * 1000000000ULL;
        bench_span *s = bench_span_new(a, rng, trace_id, NULL, "chat",
                                       OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT,
                                       t0, t0 + (200 + bench_below(rng, 15000)) * 1000000ULL);
        char *tenant = arena_alloc(a, 24);
        snprintf(tenant, 24, "tenant-%07u", (*next)++);
        int64_t in = 50 + bench_below(rng, 8000), out = 10 + bench_below(rng, 2000);
        const struct bench_price *p = price_of(m->request);
        s->n_attributes = 0;
        s->attributes = arena_alloc(a, 11 * sizeof *s->attributes);
        s->attributes[s->n_attributes++] = bench_kv_str(a, "gen_ai.operation.name", "chat");
        s->attributes[s->n_attributes++] = bench_kv_str(a, "gen_ai.provider.name", m->provider);
        s->attributes[s->n_attributes++] = bench_kv_str(a, "gen_ai.request.model", m->request);
        s->attributes[s->n_attributes++] = bench_kv_str(a, "gen_ai.response.model", m->response);
        s->attributes[s->n_attributes++] = bench_kv_int(a, "gen_ai.usage.input_tokens", in);
        s->attributes[s->n_attributes++] = bench_kv_int(a, "gen_ai.usage.output_tokens", out);
        s->attributes[s->n_attributes++] = bench_kv_str(a, "tenant.id", tenant);
        s->attributes[s->n_attributes++] = bench_kv_str(a, "server.address", m->server);
        s->attributes[s->n_attributes++] =
            bench_kv_int(a, "llmproxy.ratelimit.remaining", bench_below(rng, 1000));
        if (p)
            s->attributes[s->n_attributes++] = bench_kv_double(
                a, "gen_ai.usage.cost.amount",
                ((double)in * p->input + (double)out * p->output) / 1e6);
        ss->spans[ss->n_spans++] = s;
    }
    Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = arena_alloc(a, sizeof *rs);
    opentelemetry__proto__trace__v1__resource_spans__init(rs);
    rs->resource = res;
    rs->n_scope_spans = 1;
    rs->scope_spans = arena_alloc(a, sizeof *rs->scope_spans);
    rs->scope_spans[0] = ss;
    trace_req *req = arena_alloc(a, sizeof *req);
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(req);
    req->n_resource_spans = 1;
    req->resource_spans = arena_alloc(a, sizeof *req->resource_spans);
    req->resource_spans[0] = rs;
    struct batch *b = batch_from_msg(SIGNAL_TRACES, a, &req->base);
    if (!b)
        die("out of memory%s", "");
    return b;
}

struct mem_figure {
    int64_t series, tenants, bytes;
};

/* Heap growth of a fresh connector fed tenants until it holds at least `target` series. */
static struct mem_figure memory_at(int64_t target, uint64_t seed)
{
    struct mem_figure f = {0};
    uint64_t rng = seed;
    unsigned next = 0;
    struct conn c;
    conn_new(&c, "{}", false);
    int64_t h0 = heap_used();
    while (conn_series(&c) < target) {
        struct batch *b = tenant_request(conn_series(&c) + 200 < target ? 20 : 1, &next, &rng);
        conn_consume(&c, b);
        batch_unref(b);
    }
    f.bytes = heap_used() - h0;
    f.series = conn_series(&c);
    f.tenants = next;
    if (telemetry_value(c.tel, "llmotlp_llm_metrics_overflow_points", LABELS) != 0)
        die("the memory run reached max_series%s", "");
    conn_free(&c);
    return f;
}

/* ---- the prometheus exporter ------------------------------------------------------------------- */

struct prom {
    const struct component_factory *f;
    void *cfg;
    struct telemetry *tel;
    void *x;
};

static void prom_new(struct prom *p)
{
    memset(p, 0, sizeof *p);
    p->f = &prometheus_exporter_factory;
    p->cfg = calloc(1, p->f->config_size);
    struct error err = {0};
    struct cnode *node = config_parse_string("{}", "prometheus", &err);
    if (!p->cfg || !node || config_bind(p->f->fields, node, p->cfg, &err) != 0 ||
        p->f->validate(p->cfg, &err) != 0)
        die("config: %s", err.msg);
    cnode_free(node);
    p->tel = telemetry_new();
    struct component_env env = {.id = "prometheus", .log_name = "exporter/prometheus",
                                .telemetry = p->tel};
    /* Not started: no HTTP server; prometheus_exporter_render() is what a scrape gets. */
    p->x = p->f->create(p->cfg, &env, &err);
    if (!p->x)
        die("create: %s", err.msg);
}

static void prom_free(struct prom *p)
{
    p->f->destroy(p->x);
    config_free_bound(p->f->fields, p->cfg);
    free(p->cfg);
    telemetry_free(p->tel);
}

static size_t count_lines(const char *text, const char *prefix)
{
    size_t n = 0, pl = strlen(prefix);
    for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
        n += strncmp(l, prefix, pl) == 0;
    return n;
}

/* ---- main ------------------------------------------------------------------------------------- */

struct line {
    const char *name;
    double cpu;
    uint64_t n;
};

static void print_line(const struct line *l, double floor_m)
{
    double m = per_million(l->cpu, l->n);
    printf("%-58s %12.4f %8.2f %10.2f\n", l->name, m, m / floor_m, m > 0 ? 1.0 / m : 0);
}

int main(int argc, char **argv)
{
    unsigned nspans = 500, npool = 32, every = 32;
    uint64_t seed = 1;
    double seconds = 1;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = bench_opt(argc, argv, &i, "--spans")))
            nspans = (unsigned)bench_atol("--spans", v, 2, 100000);
        else if ((v = bench_opt(argc, argv, &i, "--pool")))
            npool = (unsigned)bench_atol("--pool", v, 1, 10000);
        else if ((v = bench_opt(argc, argv, &i, "--seed")))
            seed = (uint64_t)bench_atol("--seed", v, 1, 1L << 62);
        else if ((v = bench_opt(argc, argv, &i, "--seconds")))
            seconds = (double)bench_atol("--seconds", v, 1, 600);
        else if ((v = bench_opt(argc, argv, &i, "--export-every")))
            every = (unsigned)bench_atol("--export-every", v, 1, 1000000);
        else {
            fprintf(stderr, "usage: llm_metrics_bench [--spans N] [--pool N] [--seed N] "
                            "[--seconds S] [--export-every REQUESTS]\n");
            return 2;
        }
    }
    log_set_level(LOG_WARN);
    interest = wire_interest_new();
    if (!interest)
        die("out of memory%s", "");

    /* ---- traffic ---------------------------------------------------------------------------- */
    struct expect *e = calloc(1, sizeof *e);
    struct payload *pool = calloc(npool, sizeof *pool);
    if (!e || !pool)
        die("out of memory%s", "");
    size_t max_len = 0, wire = 0;
    uint64_t rng = seed, pool_spans = 0;
    for (unsigned i = 0; i < npool; i++) {
        struct payload raw = {.spans = nspans};
        raw.data = bench_request_build(&rng, nspans, &raw.len);
        if (!raw.data)
            die("out of memory%s", "");
        pool[i] = enrich(&raw, &rng, e);
        free(raw.data);
        max_len = pool[i].len > max_len ? pool[i].len : max_len;
        wire += pool[i].len;
        pool_spans += nspans;
    }
    struct batch **tmp = calloc(npool, sizeof *tmp), **dec = calloc(npool, sizeof *dec);
    if (!tmp || !dec)
        die("out of memory%s", "");
    for (unsigned i = 0; i < npool; i++) {
        struct error err = {0};
        dec[i] = batch_from_wire(SIGNAL_TRACES, pool[i].data, pool[i].len, &err);
        if (!dec[i] || !batch_decoded(dec[i], &err))
            die("decode: %s", err.msg);
    }
    /* The connectors exist (their keys are in the interest) before anything is indexed. */
    struct conn cu, cd, cs;
    conn_new(&cu, "{}", false);
    conn_new(&cd, "{}", false);
    conn_new(&cs, "{}", true);
    for (unsigned i = 0; i < npool; i++) {
        struct error err = {0};
        if (!batch_index(dec[i], interest, &err))
            die("index: %s", err.msg);
    }

    /* ---- checked passes: one pass of the pool through each path, one export each ------------- */
    uint64_t reqs_u = 0, reqs_d = 0, reqs_s = 0, sp = 0;
    pass_undecoded(&cu, pool, npool, tmp, UINT32_MAX, &reqs_u, &sp);
    pass_decoded(&cd, dec, pool, npool, UINT32_MAX, &reqs_d, &sp);
    pass_decoded(&cs, dec, pool, npool, UINT32_MAX, &reqs_s, &sp);
    conn_flush(&cu);
    conn_flush(&cd);
    conn_flush(&cs);
    if (!cu.sink.last || !cd.sink.last || !cs.sink.last)
        die("a flush sent nothing%s", "");
    check_export("unindexed path", cu.sink.last, e, 1);
    check_export("indexed path", cd.sink.last, e, 1);
    check_export("struct reader", cs.sink.last, e, 1);
    int64_t series = conn_series(&cd);
    uint64_t points = cd.sink.last->items;
    if (conn_series(&cu) != series || cu.sink.last->items != points ||
        conn_series(&cs) != series || cs.sink.last->items != points)
        die("the paths made different series%s", "");
    printf("== traffic: %u requests x %u spans, %.1f wire bytes/span; LLM spans %.1f%% (%" PRIu64
           " failed, %" PRIu64 " without a price), %" PRId64 " series, %" PRIu64
           " points per export; export totals checked on every path\n",
           npool, nspans, (double)wire / (double)pool_spans,
           100.0 * (double)e->llm / (double)pool_spans, e->errors, e->unpriced, series, points);

    /* The export request as the metrics pipeline gets it, for the exporter and its floor. */
    struct batch *xb = batch_ref(cd.sink.last);
    const uint8_t *xwire;
    size_t xlen;
    struct error xerr = {0};
    if (batch_encoded(xb, &xwire, &xlen, &xerr) != 0)
        die("export encode: %s", xerr.msg);

    struct prom pr;
    prom_new(&pr);
    if (pr.f->consume(pr.x, xb) != CONSUME_OK)
        die("the prometheus exporter refused the export%s", "");
    size_t tlen = 0;
    char *text = prometheus_exporter_render(pr.x, &tlen);
    if (!text)
        die("render failed%s", "");
    struct got g = tally_export(xb);
    size_t count_lines_n = count_lines(text, "llmproxy_request_count_total{");
    size_t bucket_lines = count_lines(text, "gen_ai_client_token_usage_bucket{");
    size_t lines_total = count_lines(text, "");
    if (count_lines_n != g.count_points || bucket_lines != g.usage_points * 15 ||
        telemetry_value(pr.tel, "otelcol_exporter_sent_metric_points", "exporter=\"prometheus\"") !=
            (int64_t)points) {
        fprintf(stderr, "llm_metrics_bench: render: %zu request.count lines for %" PRIu64
                        " points, %zu token usage bucket lines for %" PRIu64 " points\n",
                count_lines_n, g.count_points, bucket_lines, g.usage_points);
        return 1;
    }
    free(text);
    printf("== export: %zu bytes encoded (%.1f per point); rendered %zu bytes, %zu lines "
           "(%.1f bytes per point); render checked\n",
           xlen, (double)xlen / (double)points, tlen, lines_total, (double)tlen / (double)points);

    /* ---- (1)+(2) CPU per span, interleaved pass by pass ------------------------------------- */
    uint8_t *out = malloc(max_len > xlen ? max_len : xlen);
    struct arena *arena = arena_new(max_len * 8);
    if (!out || !arena)
        die("out of memory%s", "");
    struct line span_lines[] = {
        {"llm_metrics, request unindexed (the connector indexes it)", 0, 0},
        {"llm_metrics, index present (built by genai_semconv/cost)", 0, 0},
        {"llm_metrics, struct reader on a decoded face (before)", 0, 0},
        {"index alone: batch_index() on a fresh batch + release", 0, 0},
        {"decode alone: batch_decoded() on a fresh batch + release", 0, 0},
        {"codec floor: protobuf-c unpack + pack, arena", 0, 0},
    };
    enum { NL = sizeof span_lines / sizeof span_lines[0] };
    {
        uint64_t s0 = 0; /* warm */
        pass_undecoded(&cu, pool, npool, tmp, every, &reqs_u, &s0);
        pass_decoded(&cd, dec, pool, npool, every, &reqs_d, &s0);
        pass_structs(&cs, dec, pool, npool, every, &reqs_s, &s0);
        pass_index_only(pool, npool, tmp, &s0);
        pass_decode_only(pool, npool, tmp, &s0);
        pass_floor(pool, npool, arena, out, &s0);
    }
    uint64_t exports0_u = cu.sink.exports, exports0_d = cd.sink.exports;
    for (bool more = true; more;) {
        span_lines[0].cpu += pass_undecoded(&cu, pool, npool, tmp, every, &reqs_u, &span_lines[0].n);
        span_lines[1].cpu += pass_decoded(&cd, dec, pool, npool, every, &reqs_d, &span_lines[1].n);
        span_lines[2].cpu += pass_structs(&cs, dec, pool, npool, every, &reqs_s, &span_lines[2].n);
        span_lines[3].cpu += pass_index_only(pool, npool, tmp, &span_lines[3].n);
        span_lines[4].cpu += pass_decode_only(pool, npool, tmp, &span_lines[4].n);
        span_lines[5].cpu += pass_floor(pool, npool, arena, out, &span_lines[5].n);
        more = false;
        for (size_t l = 0; l < NL; l++)
            more |= span_lines[l].cpu < seconds;
    }
    uint64_t exports_u = cu.sink.exports - exports0_u, exports_d = cd.sink.exports - exports0_d;
    if (conn_series(&cu) != series || conn_series(&cd) != series || conn_series(&cs) != series)
        die("the timed passes made new series%s", "");
    /* The timed passes only added the same spans again: the totals scale with the passes. */
    conn_flush(&cd);
    check_export("decoded path, after the timed passes", cd.sink.last, e, reqs_d / npool);
    conn_flush(&cs);
    check_export("struct reader, after the timed passes", cs.sink.last, e, reqs_s / npool);
    double floor_m = per_million(span_lines[NL - 1].cpu, span_lines[NL - 1].n);

    /* ---- (4) export, metrics codec floor, prometheus consume and render, per point ---------- */
    struct line pt_lines[] = {
        {"llm_metrics export (llm_metrics_flush), per point", 0, 0},
        {"prometheus consume of that export, per point", 0, 0},
        {"prometheus render (a scrape's text), per point", 0, 0},
        {"metrics codec floor: unpack + pack of the export, arena", 0, 0},
    };
    for (bool more = true; more;) {
        double c0 = bench_cpu();
        conn_flush(&cd);
        pt_lines[0].cpu += bench_cpu() - c0;
        pt_lines[0].n += points;

        c0 = bench_cpu();
        if (pr.f->consume(pr.x, xb) != CONSUME_OK)
            die("the prometheus exporter refused the export%s", "");
        pt_lines[1].cpu += bench_cpu() - c0;
        pt_lines[1].n += points;

        c0 = bench_cpu();
        text = prometheus_exporter_render(pr.x, &tlen);
        if (!text)
            die("render failed%s", "");
        free(text);
        pt_lines[2].cpu += bench_cpu() - c0;
        pt_lines[2].n += points;

        c0 = bench_cpu();
        metrics_req *mr = MREQ_UNPACK(arena_allocator(arena), xlen, xwire);
        if (!mr || MREQ_SIZE(mr) != xlen || MREQ_PACK(mr, out) != xlen)
            die("metrics unpack + pack failed%s", "");
        arena_reset(arena);
        pt_lines[3].cpu += bench_cpu() - c0;
        pt_lines[3].n += points;

        more = false;
        for (size_t l = 0; l < 4; l++)
            more |= pt_lines[l].cpu < seconds / 2;
    }
    double mfloor_m = per_million(pt_lines[3].cpu, pt_lines[3].n);
    double export_m = per_million(pt_lines[0].cpu, pt_lines[0].n);
    /* The export's share of a span at this cadence: one export of `points` per `every` requests. */
    double export_share = export_m * (double)points / 1e6 / ((double)every * nspans) * 1e6;

    /* ---- (3) memory per series ------------------------------------------------------------- */
    struct mem_figure m1k = memory_at(1000, seed), m10k = memory_at(10000, seed);

    /* ---- report ---------------------------------------------------------------------------- */
    printf("== (1) CPU per span, consume() + one export per %u requests (%" PRIu64 " + %" PRIu64
           " exports of %" PRIu64 " points in the timed passes)\n",
           every, exports_u, exports_d, points);
    printf("%-58s %12s %8s %10s\n", "", "CPU-s/M spans", "x floor", "M spans/s");
    for (size_t l = 0; l < NL; l++)
        print_line(&span_lines[l], floor_m);
    double und_m = per_million(span_lines[0].cpu, span_lines[0].n);
    double dec_m = per_million(span_lines[1].cpu, span_lines[1].n);
    double structs_m = per_million(span_lines[2].cpu, span_lines[2].n);
    double index_m = per_million(span_lines[3].cpu, span_lines[3].n);
    double decode_m = per_million(span_lines[4].cpu, span_lines[4].n);
    printf("of which the exports: %.4f CPU-s per million spans (%.2fx the floor)\n", export_share,
           export_share / floor_m);
    printf("== (2) per point of the connector's export (%" PRIu64 " points, %" PRId64
           " series), against the codec floor of that export request\n",
           points, series);
    printf("%-58s %12s %8s %10s\n", "", "CPU-s/M points", "x mfloor", "M points/s");
    for (size_t l = 0; l < 4; l++)
        print_line(&pt_lines[l], mfloor_m);
    printf("== (3) series store memory: heap growth of a fresh connector (mallinfo2), tenants "
           "added until the series count is reached\n");
    printf("%-58s %10s %10s %12s %12s\n", "", "series", "tenants", "bytes/series", "bytes/tenant");
    const struct mem_figure *mf[2] = {&m1k, &m10k};
    for (int i = 0; i < 2; i++)
        printf("%-58s %10" PRId64 " %10" PRId64 " %12.1f %12.1f\n",
               i == 0 ? "~1k series" : "~10k series", mf[i]->series, mf[i]->tenants,
               (double)mf[i]->bytes / (double)mf[i]->series,
               (double)mf[i]->bytes / (double)mf[i]->tenants);
    printf("struct lm_series: %zu bytes (+ 8 per histogram bucket, + %zu for the availability "
           "ring, + key bytes, + malloc's header)\n",
           sizeof(struct lm_series), LM_RING_SLOTS * sizeof(struct lm_slot));
    if (m10k.bytes == 0)
        printf("(heap figures unavailable: malloc is not glibc's here, e.g. under ASan)\n");

    /* "undecoded" / "decoded" keep their names for bench/run.sh: the connector doing the request's
     * preparation itself (now the index) / finding it done upstream. */
    printf("{\"llm_metrics_undecoded_cpu_s_per_million_spans\": %.4f, "
           "\"llm_metrics_decoded_cpu_s_per_million_spans\": %.4f, "
           "\"llm_metrics_structs_cpu_s_per_million_spans\": %.4f, \"structs_ratio\": %.3f, "
           "\"index_cpu_s_per_million_spans\": %.4f, "
           "\"decode_cpu_s_per_million_spans\": %.4f, \"codec_floor_cpu_s_per_million_spans\": %.4f,"
           " \"undecoded_ratio\": %.3f, \"decoded_ratio\": %.3f, \"export_every_requests\": %u,"
           " \"export_share_cpu_s_per_million_spans\": %.4f, \"series\": %" PRId64
           ", \"export_points\": %" PRIu64 ",\n"
           " \"export_cpu_s_per_million_points\": %.4f, \"prometheus_consume_cpu_s_per_million_points\": %.4f,"
           " \"prometheus_render_cpu_s_per_million_points\": %.4f, "
           "\"metrics_codec_floor_cpu_s_per_million_points\": %.4f, \"export_ratio\": %.3f, "
           "\"prometheus_consume_ratio\": %.3f, \"prometheus_render_ratio\": %.3f,\n"
           " \"heap_bytes_per_series_1k\": %.1f, \"heap_bytes_per_series_10k\": %.1f, "
           "\"series_1k\": %" PRId64 ", \"series_10k\": %" PRId64 "}\n",
           und_m, dec_m, structs_m, structs_m / floor_m, index_m, decode_m, floor_m, und_m / floor_m, dec_m / floor_m, every, export_share,
           series, points, export_m, per_million(pt_lines[1].cpu, pt_lines[1].n),
           per_million(pt_lines[2].cpu, pt_lines[2].n), mfloor_m, export_m / mfloor_m,
           per_million(pt_lines[1].cpu, pt_lines[1].n) / mfloor_m,
           per_million(pt_lines[2].cpu, pt_lines[2].n) / mfloor_m,
           (double)m1k.bytes / (double)m1k.series, (double)m10k.bytes / (double)m10k.series,
           m1k.series, m10k.series);

    prom_free(&pr);
    batch_unref(xb);
    conn_free(&cu);
    conn_free(&cd);
    conn_free(&cs);
    wire_interest_free(interest);
    for (unsigned i = 0; i < npool; i++) {
        batch_unref(dec[i]);
        free(pool[i].data);
    }
    free(dec);
    free(tmp);
    free(pool);
    free(e);
    free(out);
    arena_free(arena);
    return 0;
}
