/* genai_bench.c — the GenAI processors in one process: CPU per million spans through
 * genai_semconv + cost (and cost alone), from request bytes to request bytes, set against the
 * codec floor (protobuf-c unpack + pack of the very same requests) measured in the same run.
 *
 * The one idea: each line is what the service does to a request between its receiver and its
 * exporter — batch_from_wire (copy + otlp_scan), the processors' consume() through their
 * factories, then the encoded face an exporter sends — driven by one thread with no network, so
 * the process's CPU clock sees that path and nothing else. "passthrough" (no processor) is the
 * same path with nothing in the middle, so the processors' own share is the difference.
 * Figures are printed only after a checked pass: every LLM span left with the cost this program
 * computes itself from its own price table (or flagged unpriced when its model has none), every
 * other span without one, and the legacy names renamed.
 *
 * The requests: the LLM-gateway generator of bench_common.h (HTTP root + 1–4 LLM client spans
 * of five models, one of them without a price, a tenant.id on every span), once with current
 * GenAI names and once rewritten to legacy ones (gen_ai.system, gen_ai.usage.prompt_tokens /
 * completion_tokens) so that genai_semconv has renames to do.
 *
 * usage: genai_bench [--spans 500] [--pool 32] [--seed 1] [--seconds 1] */
#include <inttypes.h>
#include <math.h>
#include <unistd.h>

#define BENCH_NAME "genai_bench"
#include "bench/bench_pipeline.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/pricing.h"
#include "core/telemetry.h"
#include "core/wire_index.h"

/* ---- prices: the bench's own table, written into a temporary DB ---------------------------- */

struct bench_price {
    const char *provider, *model;
    double input, output; /* per million tokens */
};

/* List prices of ../shared/pricing-reference.csv; the generator's fifth model (a Bedrock Llama)
 * deliberately has none, so the unpriced path is part of the figure. */
static const struct bench_price prices[] = {
    {"openai", "gpt-4o", 2.50, 10.00},
    {"openai", "gpt-4o-mini", 0.15, 0.60},
    {"anthropic", "claude-sonnet-4-5", 3.00, 15.00},
    {"gcp.gemini", "gemini-2.5-pro", 1.25, 10.00},
};
#define NPRICES (sizeof prices / sizeof prices[0])

static const struct bench_price *price_of(const char *request_model)
{
    for (size_t i = 0; i < NPRICES; i++)
        if (strcmp(prices[i].model, request_model) == 0)
            return &prices[i];
    return NULL;
}

static void make_db(const char *path)
{
    struct error err = {0};
    struct pricing_store *s = pricing_open(path, true, &err);
    if (!s)
        bench_die("pricing_open: %s", err.msg);
    pricing_close(s);
    for (size_t i = 0; i < NPRICES; i++) {
        struct price p;
        memset(&p, 0, sizeof p);
        snprintf(p.provider, sizeof p.provider, "%s", prices[i].provider);
        snprintf(p.model, sizeof p.model, "%s", prices[i].model);
        snprintf(p.currency, sizeof p.currency, "USD");
        p.effective_to = INT64_MAX;
        p.input = prices[i].input;
        p.output = prices[i].output;
        p.cache_read = p.cache_write = p.reasoning = -1;
        if (pricing_admin_set(path, &p, NULL, &err) != 0)
            bench_die("pricing_admin_set: %s", err.msg);
    }
}

/* ---- requests ------------------------------------------------------------------------------ */

/* The same request with legacy names: what an older gateway sends. */
static struct payload legacy_of(const struct payload *cur)
{
    trace_req *r = REQ_UNPACK(NULL, cur->len, cur->data);
    if (!r)
        bench_die("unpack failed%s", "");
    static const char *const renames[][2] = {
        {"gen_ai.provider.name", "gen_ai.system"},
        {"gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"},
        {"gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"},
    };
    for (size_t i = 0; i < r->n_resource_spans; i++)
        for (size_t j = 0; j < r->resource_spans[i]->n_scope_spans; j++) {
            Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = r->resource_spans[i]->scope_spans[j];
            for (size_t k = 0; k < ss->n_spans; k++)
                for (size_t a = 0; a < ss->spans[k]->n_attributes; a++) {
                    bench_kv *kv = ss->spans[k]->attributes[a];
                    for (size_t n = 0; n < 3; n++)
                        if (strcmp(kv->key, renames[n][0]) == 0) {
                            free(kv->key);
                            kv->key = strdup(renames[n][1]);
                        }
                    if (strcmp(kv->key, "gen_ai.system") == 0 &&
                        strcmp(kv->value->string_value, "gcp.gemini") == 0) {
                        free(kv->value->string_value);
                        kv->value->string_value = strdup("gemini"); /* the v1.36 value */
                    }
                }
        }
    struct payload p = {.len = REQ_SIZE(r), .spans = cur->spans};
    p.data = malloc(p.len);
    if (!p.data)
        bench_die("out of memory%s", "");
    REQ_PACK(r, p.data);
    REQ_FREE(r, NULL);
    return p;
}

/* ---- the pipeline -------------------------------------------------------------------------- */

/* The exporter's end: asks for the encoded face, as the otlp exporter does, and counts spans. */
struct sink {
    struct consumer c;
    bool check;
    uint64_t spans, llm_priced, llm_unpriced, failures;
    uint64_t legacy_left;
};

static const bench_kv *find(const bench_span *s, const char *key)
{
    for (size_t i = 0; i < s->n_attributes; i++)
        if (strcmp(s->attributes[i]->key, key) == 0)
            return s->attributes[i];
    return NULL;
}

/* Every span as it must leave: an LLM span (one with a request model) costed from `prices` or
 * flagged unpriced, any other span untouched by cost. */
static void check_request(struct sink *k, const trace_req *r)
{
    for (size_t i = 0; i < r->n_resource_spans; i++)
        for (size_t j = 0; j < r->resource_spans[i]->n_scope_spans; j++) {
            Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = r->resource_spans[i]->scope_spans[j];
            for (size_t n = 0; n < ss->n_spans; n++) {
                const bench_span *s = ss->spans[n];
                const bench_kv *model = find(s, "gen_ai.request.model");
                const bench_kv *amount = find(s, "gen_ai.usage.cost.amount");
                if (find(s, "gen_ai.system") || find(s, "gen_ai.usage.prompt_tokens"))
                    k->legacy_left++;
                if (!model) {
                    if (amount || find(s, "llmotlp.cost.unpriced"))
                        k->failures++;
                    continue;
                }
                const bench_kv *in = find(s, "gen_ai.usage.input_tokens");
                const bench_kv *out = find(s, "gen_ai.usage.output_tokens");
                const struct bench_price *p = price_of(model->value->string_value);
                if (!p) {
                    const bench_kv *f = find(s, "llmotlp.cost.unpriced");
                    if (amount || !f || f->value->value_case != V_BOOL || !f->value->bool_value)
                        k->failures++;
                    else
                        k->llm_unpriced++;
                    continue;
                }
                if (!in || !out || in->value->value_case != V_INT ||
                    out->value->value_case != V_INT || !amount ||
                    amount->value->value_case != V_DOUBLE) {
                    k->failures++;
                    continue;
                }
                double want = ((double)in->value->int_value * p->input +
                               (double)out->value->int_value * p->output) / 1e6;
                const bench_kv *src = find(s, "gen_ai.usage.cost.source");
                if (fabs(amount->value->double_value - want) > 1e-12 || !src ||
                    strcmp(src->value->string_value, "local") != 0)
                    k->failures++;
                else
                    k->llm_priced++;
            }
        }
}

static enum consume_status sink_consume(struct consumer *c, struct batch *b)
{
    struct sink *k = (struct sink *)c;
    const uint8_t *data;
    size_t len;
    k->spans += bench_encoded_spans(b, &data, &len);
    if (k->check) {
        trace_req *r = REQ_UNPACK(NULL, len, data);
        if (!r)
            bench_die("the processors sent bytes that do not unpack%s", "");
        check_request(k, r);
        REQ_FREE(r, NULL);
    }
    return CONSUME_OK;
}

/* The traces pipeline's fan-out to the llm_metrics connector and the exporter, as in
 * config.yaml: the connector reads the same batch (its span index) before the exporter asks for
 * the encoded face. The connector is not started: its exports (every 15 s in a service) are
 * left out, so the line is its per-span cost. */
struct tee {
    struct consumer c;
    const struct component_factory *f;
    void *lm;
    struct consumer *next;
};

static enum consume_status tee_consume(struct consumer *c, struct batch *b)
{
    struct tee *t = (struct tee *)c;
    if (t->f->consume(t->lm, b) != CONSUME_OK)
        bench_die("llm_metrics refused a request%s", "");
    return t->next->consume(t->next, b);
}

static enum consume_status null_consume(struct consumer *c, struct batch *b)
{
    (void)c;
    (void)b;
    return CONSUME_OK;
}

static struct tee *tee_new(struct consumer *next, struct telemetry *tel, struct wire_interest *in)
{
    static struct consumer metrics_null = {.consume = null_consume};
    const struct component_factory *f = component_find(COMPONENT_CONNECTOR, "llm_metrics");
    if (!f)
        return NULL;
    struct tee *t = calloc(1, sizeof *t);
    void *cfg = calloc(1, f->config_size);
    struct error err = {0};
    struct cnode *node = config_parse_string("{}", "llm_metrics", &err);
    if (!t || !cfg || !node || config_bind(f->fields, node, cfg, &err) != 0 ||
        (f->validate && f->validate(cfg, &err) != 0))
        bench_die("llm_metrics config: %s", err.msg);
    struct component_env env = {.id = "llm_metrics", .log_name = "connector/llm_metrics",
                                .signal = SIGNAL_TRACES, .telemetry = tel, .interest = in};
    env.next[SIGNAL_METRICS] = &metrics_null;
    t->lm = f->create(cfg, &env, &err);
    if (!t->lm)
        bench_die("llm_metrics create: %s", err.msg);
    t->f = f;
    t->c.consume = tee_consume;
    t->next = next;
    return t;
}

struct line {
    const char *name;
    const struct payload *pool;
    struct consumer *first;   /* NULL = passthrough */
    bool is_floor;
    double cpu;
    uint64_t spans;
};

int main(int argc, char **argv)
{
    struct bench_opts o = bench_parse_opts(argc, argv);
    unsigned nspans = o.nspans, npool = o.npool;
    uint64_t seed = o.seed;
    double seconds = o.seconds;
    log_set_level(LOG_WARN);

    char dir[] = "/tmp/genai_bench_XXXXXX";
    if (!mkdtemp(dir))
        bench_die("mkdtemp failed%s", "");
    char db[128];
    snprintf(db, sizeof db, "%s/prices.db", dir);
    make_db(db);

    struct payload *cur = calloc(npool, sizeof *cur), *old = calloc(npool, sizeof *old);
    size_t max_len = 0, wire = 0;
    uint64_t rng = seed, pool_spans = 0;
    for (unsigned i = 0; i < npool; i++) {
        cur[i].data = bench_request_build(&rng, nspans, &cur[i].len);
        if (!cur[i].data)
            bench_die("out of memory%s", "");
        cur[i].spans = nspans;
        old[i] = legacy_of(&cur[i]);
        max_len = cur[i].len > max_len ? cur[i].len : max_len;
        max_len = old[i].len > max_len ? old[i].len : max_len;
        wire += cur[i].len;
        pool_spans += nspans;
    }

    struct telemetry *tel = telemetry_new();
    struct sink sink = {.c.consume = sink_consume};
    char cost_yaml[256];
    snprintf(cost_yaml, sizeof cost_yaml, "database: %s\ncreate_database: false\nreload_interval: 0\n",
             db);
    /* [cost] alone, and [genai_semconv, cost]: separate instances, one sink, one span-index
     * interest shared by all, as in a service that runs both processors. */
    struct wire_interest *interest = wire_interest_new();
    if (!interest)
        bench_die("out of memory%s", "");
    struct hop *cost_alone = bench_hop_new_in("cost", cost_yaml, &sink.c, tel, interest);
    struct hop *cost_after = bench_hop_new_in("cost", cost_yaml, &sink.c, tel, interest);
    struct hop *semconv = bench_hop_new_in("genai_semconv", "{}",
                                           cost_after ? &cost_after->c : NULL, tel, interest);
    if (!cost_alone)
        bench_die("this build has no cost processor%s", "");
    if (!semconv)
        printf("genai_semconv is not in this build: only [cost] is measured\n");
    /* [genai_semconv, cost] then the llm_metrics connector beside the exporter: the three
     * processors of issue 15's target on one shared span index. */
    struct tee *metrics = tee_new(&sink.c, tel, interest);
    struct hop *cost_three =
        metrics ? bench_hop_new_in("cost", cost_yaml, &metrics->c, tel, interest) : NULL;
    struct hop *semconv_three =
        cost_three ? bench_hop_new_in("genai_semconv", "{}", &cost_three->c, tel, interest) : NULL;
    /* genai_semconv alone (its own instance, straight to the sink): its share without cost's. */
    struct hop *semconv_alone =
        bench_hop_new_in("genai_semconv", "{}", &sink.c, tel, interest);
    /* ... and created without an interest (every attribute indexed): what the index costs when
     * it records everything, for comparison only. */
    struct hop *semconv_all = bench_hop_new("genai_semconv", "{}", &sink.c, tel);

    /* ---- checked passes --------------------------------------------------------------------- */
    struct {
        const char *what;
        const struct payload *pool;
        struct consumer *first;
    } checks[] = {{"[cost], current names", cur, &cost_alone->c},
                  {"[genai_semconv, cost], current names", cur, semconv ? &semconv->c : NULL},
                  {"[genai_semconv, cost], legacy names", old, semconv ? &semconv->c : NULL}};
    for (size_t c = 0; c < 3; c++) {
        if (!checks[c].first)
            continue;
        struct sink fresh = {.c.consume = sink_consume, .check = true};
        sink = fresh;
        bench_pipeline_pass(checks[c].pool, npool, checks[c].first, &sink.c);
        if (sink.failures || sink.spans != pool_spans || sink.llm_priced == 0 ||
            sink.llm_unpriced == 0 || sink.legacy_left) {
            fprintf(stderr, "genai_bench: %s: %" PRIu64 " wrong spans, %" PRIu64 " legacy names "
                            "left, %" PRIu64 " of %" PRIu64 " spans out (%" PRIu64 " priced, %"
                            PRIu64 " unpriced)\n",
                    checks[c].what, sink.failures, sink.legacy_left, sink.spans, pool_spans,
                    sink.llm_priced, sink.llm_unpriced);
            return 1;
        }
        if (c == 0)
            printf("== traffic: %u requests x %u spans, %.1f wire bytes/span; LLM spans %.1f%% "
                   "(%" PRIu64 " priced, %" PRIu64 " without a price), every one checked\n",
                   npool, nspans, (double)wire / (double)pool_spans,
                   100.0 * (double)(sink.llm_priced + sink.llm_unpriced) / (double)pool_spans,
                   sink.llm_priced, sink.llm_unpriced);
    }
    sink.check = false;

    /* ---- timed passes, interleaved so that every line sees the same machine ----------------- */
    uint8_t *out = malloc(max_len);
    struct arena *arena = arena_new(max_len * 8);
    struct line lines[] = {
        {"genai_semconv + cost, legacy names", old, semconv ? &semconv->c : NULL, false, 0, 0},
        {"genai_semconv + cost, current names", cur, semconv ? &semconv->c : NULL, false, 0, 0},
        {"cost alone, current names", cur, &cost_alone->c, false, 0, 0},
        {"passthrough: batch_from_wire + encoded face", cur, NULL, false, 0, 0},
        {"genai_semconv alone, legacy names", old, semconv_alone ? &semconv_alone->c : NULL,
         false, 0, 0},
        {"genai_semconv alone, current names", cur, semconv_alone ? &semconv_alone->c : NULL,
         false, 0, 0},
        {"genai_semconv alone, legacy, every attr indexed", old,
         semconv_all ? &semconv_all->c : NULL, false, 0, 0},
        {"genai_semconv + cost + llm_metrics, legacy names", old,
         semconv_three ? &semconv_three->c : NULL, false, 0, 0},
        {"genai_semconv + cost + llm_metrics, current names", cur,
         semconv_three ? &semconv_three->c : NULL, false, 0, 0},
        {"codec floor: protobuf-c unpack + pack, arena", cur, NULL, true, 0, 0},
    };
    const size_t nlines = sizeof lines / sizeof lines[0];
    for (size_t l = 0; l < nlines; l++) /* warm */
        if (lines[l].is_floor)
            bench_floor_pass(lines[l].pool, npool, arena, out);
        else if (lines[l].first || l == 3)
            bench_pipeline_pass(lines[l].pool, npool, lines[l].first, &sink.c);
    for (bool more = true; more;) {
        more = false;
        for (size_t l = 0; l < nlines; l++) {
            if (!lines[l].is_floor && !lines[l].first && l != 3)
                continue;
            double c0 = bench_cpu();
            lines[l].spans += lines[l].is_floor
                                  ? bench_floor_pass(lines[l].pool, npool, arena, out)
                                  : bench_pipeline_pass(lines[l].pool, npool, lines[l].first,
                                                        &sink.c);
            lines[l].cpu += bench_cpu() - c0;
            if (lines[l].cpu < seconds)
                more = true;
        }
    }
    double floor_m = lines[nlines - 1].cpu / ((double)lines[nlines - 1].spans / 1e6);

    printf("%-52s %12s %10s %12s\n", "", "CPU-s/M spans", "x floor", "M spans/s");
    for (size_t l = 0; l < nlines; l++) {
        if (!lines[l].spans) {
            printf("%-52s %12s\n", lines[l].name, "(not built)");
            continue;
        }
        double m = lines[l].cpu / ((double)lines[l].spans / 1e6);
        printf("%-52s %12.4f %10.2f %12.2f\n", lines[l].name, m, m / floor_m, 1.0 / m);
    }
    double pass_m = lines[3].cpu / ((double)lines[3].spans / 1e6);
    double both_m = lines[0].spans ? lines[0].cpu / ((double)lines[0].spans / 1e6) : 0;
    double cur_m = lines[1].spans ? lines[1].cpu / ((double)lines[1].spans / 1e6) : 0;
    double cost_m = lines[2].cpu / ((double)lines[2].spans / 1e6);
    double three_old = lines[7].spans ? lines[7].cpu / ((double)lines[7].spans / 1e6) : 0;
    double three_cur = lines[8].spans ? lines[8].cpu / ((double)lines[8].spans / 1e6) : 0;
    /* Issue 15's target is on the processors themselves: the line minus passthrough (the
     * receiver's copy and validating scan, which every pipeline pays) against the floor. */
    if (lines[7].spans)
        printf("genai_semconv + cost + llm_metrics, net of passthrough: %.2f (legacy) / %.2f "
               "(current) x floor\n", (three_old - pass_m) / floor_m, (three_cur - pass_m) / floor_m);
    printf("{\"genai_legacy_cpu_s_per_million_spans\": %.4f, \"genai_current_cpu_s_per_million_spans\": "
           "%.4f, \"cost_cpu_s_per_million_spans\": %.4f, \"passthrough_cpu_s_per_million_spans\": "
           "%.4f, \"codec_floor_cpu_s_per_million_spans\": %.4f, \"ratio\": %.3f, "
           "\"three_legacy_cpu_s_per_million_spans\": %.4f, \"three_current_cpu_s_per_million_spans\": "
           "%.4f}\n",
           both_m, cur_m, cost_m, pass_m, floor_m, both_m / floor_m, three_old, three_cur);

    bench_hop_free(semconv_three);
    bench_hop_free(cost_three);
    if (metrics) {
        metrics->f->destroy(metrics->lm);
        free(metrics);
    }
    bench_hop_free(semconv_all);
    bench_hop_free(semconv_alone);
    bench_hop_free(semconv);
    bench_hop_free(cost_after);
    bench_hop_free(cost_alone);
    telemetry_free(tel);
    wire_interest_free(interest);
    arena_free(arena);
    free(out);
    for (unsigned i = 0; i < npool; i++) {
        free(cur[i].data);
        free(old[i].data);
    }
    free(cur);
    free(old);
    char path[160];
    snprintf(path, sizeof path, "%s/prices.db", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/prices.db-wal", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/prices.db-shm", dir);
    unlink(path);
    rmdir(dir);
    return 0;
}
