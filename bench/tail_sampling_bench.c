/* tail_sampling_bench.c — the tail_sampling processor alone, in one process: CPU per span for
 * ingest + decide + release set against the codec floor (protobuf-c unpack + pack of the very
 * same requests) measured in the same run, retained bytes per buffered span beyond the span's
 * own encoded bytes (the processor's own account and the heap's), and the heap under
 * max_buffered_bytes when ten times that much arrives.
 *
 * The one idea: a fake clock and tail_sampling_tick() stand in for time, so one thread drives the
 * processor through its factory exactly as the service would, nothing waits, every decision is
 * reproducible, and the process's CPU and heap counters see the processor and nothing else.
 * Every figure is only printed after the output has been checked: each kept trace leaves with
 * exactly the spans that went in for it, and the decision counters add up.
 *
 * The requests: the LLM-gateway generator of bench_common.h (root + 1–4 LLM client spans, ~2%
 * failing), re-dealt round-robin over windows of --window requests so that the spans of one trace
 * arrive in different requests, as they do from a gateway that exports each span when it ends.
 * The requests of one window carry one resource (one gateway instance sends all of a trace's
 * spans); consecutive windows come from different instances.
 *
 * usage: tail_sampling_bench [--requests 200] [--spans 1000] [--window 8] [--seed 1]
 *                            [--seconds 1] [--bound-mib 32] [--load 10]
 *                            [--num-traces 50000] [--cache 100000]
 * --num-traces and --cache set (a)'s store and decision caches: below the traces that wait
 * (about 28000 here) the store is full and every new trace decides the oldest one early, as in a
 * saturated relay; below the traces decided, the caches forget their oldest entries. */
#include <inttypes.h>
#include <malloc.h>

#include "bench/bench_common.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/telemetry.h"
#include "processors/tail_sampling/tail_sampling.h"
#include "processors/tail_sampling/ts_internal.h"

#define REQ_UNPACK opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack
#define REQ_FREE opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked
#define REQ_SIZE opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size
#define REQ_PACK opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest trace_req;

#define SEC 1000000000LL
#define MS 1000000LL
#define MAX_PASSES 64            /* trace-ID tags: byte 0 of every trace ID is the pass number */
#define PREFIX "otelcol_processor_tail_sampling_"
#define LABELS "processor=\"tail_sampling\""

/* The tail_sampling block of config.yaml; %s takes the overrides of each measurement. */
static const char *const ts_yaml =
    "decision_wait: 10s\n"
    "num_traces: 50000\n"
    "max_buffered_bytes: 268435456\n"
    "decision_cache:\n"
    "  sampled_cache_size: 100000\n"
    "  non_sampled_cache_size: 100000\n"
    "propagate_attributes: [tenant.id]\n"
    "decision_attributes: true\n"
    "policies:\n"
    "  - name: errors\n"
    "    type: status_code\n"
    "    status_code: {status_codes: [ERROR]}\n"
    "  - name: error-type\n"
    "    type: string_attribute\n"
    "    string_attribute: {key: error.type, values: [\".+\"], enabled_regex_matching: true}\n"
    "  - name: slow\n"
    "    type: latency\n"
    "    latency: {threshold_ms: 5000}\n"
    "  - name: sample-10\n"
    "    type: probabilistic\n"
    "    probabilistic: {sampling_percentage: 10}\n";

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "tail_sampling_bench: ");
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

/* ---- trace tally: spans in per trace, spans out per trace and pass ----------------------------- */

struct tally {
    uint8_t (*id)[16];        /* byte 0 always 0: the pass tag is stripped before lookup */
    uint32_t *in;             /* 0 = empty slot */
    uint16_t *out;            /* [slot * MAX_PASSES + pass] */
    size_t mask, traces;
};

static size_t tally_slot(const struct tally *t, const uint8_t *id)
{
    uint64_t a, b;
    memcpy(&a, id, 8);
    memcpy(&b, id + 8, 8);
    size_t i = (size_t)(((a ^ b * 0x9e3779b97f4a7c15ull) * 0xbf58476d1ce4e5b9ull) >> 20) & t->mask;
    while (t->in[i] && memcmp(t->id[i], id, 16) != 0)
        i = (i + 1) & t->mask;
    return i;
}

/* ---- requests ----------------------------------------------------------------------------------- */

struct request {
    uint8_t *data;
    size_t len;
    unsigned spans;
    struct batch *batch;      /* validated copy for the processor (batch_from_wire) */
};

struct pool {
    struct request *req;
    unsigned n;
    uint64_t spans, traces, error_traces;
    uint64_t span_field_bytes;   /* every span's field in ScopeSpans: tag + length + body */
    uint64_t span_body_bytes;
    uint64_t wire_bytes;
    uint64_t segments;           /* resource+scope changes along each trace's arrival */
    uint64_t prop_bytes;         /* the processor's record of each trace's tenant.id */
    size_t max_len;
    struct tally tally;
};

/* Builds n requests of `spans` spans: windows of w generated requests whose spans are dealt
 * round-robin, so each trace's 2–5 spans land in as many different requests. */
static void pool_build(struct pool *p, unsigned n, unsigned spans, unsigned w, uint64_t seed)
{
    uint64_t rng = seed * 0x9E3779B97F4A7C15ULL | 1;
    p->req = calloc(n, sizeof *p->req);
    p->n = n;
    size_t cap = 16;
    while (cap < (size_t)n * spans) /* traces have >= 2 spans: load factor <= 1/2 */
        cap <<= 1;
    p->tally.mask = cap - 1;
    p->tally.id = calloc(cap, 16);
    p->tally.in = calloc(cap, sizeof *p->tally.in);
    p->tally.out = calloc(cap * MAX_PASSES, sizeof *p->tally.out);
    if (!p->req || !p->tally.id || !p->tally.in || !p->tally.out)
        die("out of memory%s", "");
    trace_req **src = calloc(w, sizeof *src);
    bench_span **dealt = calloc((size_t)spans * w, sizeof *dealt);
    for (unsigned base = 0; base < n; base += w) {
        unsigned ww = n - base < w ? n - base : w;
        size_t total = 0;
        for (unsigned j = 0; j < ww; j++) {
            size_t len;
            uint8_t *raw = bench_request_build(&rng, spans, &len);
            if (!raw || !(src[j] = REQ_UNPACK(NULL, len, raw)))
                die("cannot build a request%s", "");
            free(raw);
            Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = src[j]->resource_spans[0]->scope_spans[0];
            for (size_t k = 0; k < ss->n_spans; k++)
                dealt[total++] = ss->spans[k];
        }
        /* Byte 0 of every trace ID is the pass tag (0 here); traces are contiguous in `dealt`. */
        for (size_t g = 0; g < total; g++)
            dealt[g]->trace_id.data[0] = 0;
        for (size_t g = 0; g < total;) {
            const uint8_t *id = dealt[g]->trace_id.data;
            size_t e = g;
            int failed = 0;
            while (e < total && memcmp(dealt[e]->trace_id.data, id, 16) == 0) {
                failed |= dealt[e]->status->code ==
                          OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
                e++;
            }
            size_t slot = tally_slot(&p->tally, id);
            if (p->tally.in[slot])
                die("duplicate trace ID in the generated traffic%s", "");
            memcpy(p->tally.id[slot], id, 16);
            p->tally.in[slot] = (uint32_t)(e - g);
            p->traces++;
            p->error_traces += (uint64_t)failed;
            /* One envelope per window: a trace's spans extend one segment. */
            p->segments++;
            /* The processor keeps the first tenant.id it sees: index byte, length, KeyValue. */
            bench_span *s0 = dealt[g];
            for (size_t a = 0; a < s0->n_attributes; a++)
                if (strcmp(s0->attributes[a]->key, "tenant.id") == 0) {
                    size_t kv = protobuf_c_message_get_packed_size(&s0->attributes[a]->base);
                    p->prop_bytes += 1 + pb_varint_size(kv) + kv;
                }
            g = e;
        }
        for (size_t g = 0; g < total; g++) {
            size_t body = protobuf_c_message_get_packed_size(&dealt[g]->base);
            p->span_body_bytes += body;
            p->span_field_bytes += pb_len_prefix_size(2, body) + body;
        }
        /* Output j: the resource and scope of the window's first request, spans j, j+ww, ... */
        for (unsigned j = 0; j < ww; j++) {
            Opentelemetry__Proto__Trace__V1__ResourceSpans rs = *src[0]->resource_spans[0];
            Opentelemetry__Proto__Trace__V1__ScopeSpans ss = *rs.scope_spans[0];
            Opentelemetry__Proto__Trace__V1__ScopeSpans *ssp = &ss;
            Opentelemetry__Proto__Trace__V1__ResourceSpans *rsp = &rs;
            bench_span **mine = calloc(total / ww + 1, sizeof *mine);
            ss.n_spans = 0;
            for (size_t g = j; g < total; g += ww)
                mine[ss.n_spans++] = dealt[g];
            ss.spans = mine;
            rs.scope_spans = &ssp;
            trace_req out = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
            out.n_resource_spans = 1;
            out.resource_spans = &rsp;
            struct request *r = &p->req[base + j];
            r->len = REQ_SIZE(&out);
            r->data = malloc(r->len);
            if (!r->data)
                die("out of memory%s", "");
            REQ_PACK(&out, r->data);
            r->spans = (unsigned)ss.n_spans;
            p->spans += r->spans;
            p->wire_bytes += r->len;
            if (r->len > p->max_len)
                p->max_len = r->len;
            if (bench_count_spans(r->data, r->len) != (int64_t)r->spans)
                die("re-dealt request has the wrong span count%s", "");
            free(mine);
        }
        for (unsigned j = 0; j < ww; j++)
            REQ_FREE(src[j], NULL);
    }
    free(src);
    free(dealt);
}

/* Sets byte 0 of every trace ID in the request to `tag` (wire walk down to Span.trace_id, which
 * protobuf-c writes first: 0x0A 0x10 + 16 bytes). */
static int tag_span(const uint8_t *p, const uint8_t *end, void *ctx)
{
    if (end - p < 18 || p[0] != 0x0A || p[1] != 16)
        return -1;
    ((uint8_t *)p)[2] = *(const uint8_t *)ctx;
    return 0;
}
static int tag_scope(const uint8_t *p, const uint8_t *end, void *ctx)
{
    return bench_each_field(p, end, 2, tag_span, ctx);
}
static int tag_resource(const uint8_t *p, const uint8_t *end, void *ctx)
{
    return bench_each_field(p, end, 2, tag_scope, ctx);
}

static void request_tag(struct request *r, uint8_t tag)
{
    if (bench_each_field(r->data, r->data + r->len, 1, tag_resource, &tag) != 0)
        die("cannot tag trace IDs%s", "");
}

/* The receiver's part (copy + otlp_scan), done outside every measurement. */
static void request_batch(struct request *r)
{
    struct error err = {0};
    if (r->batch)
        batch_unref(r->batch);
    r->batch = batch_from_wire(SIGNAL_TRACES, r->data, r->len, &err);
    if (!r->batch)
        die("batch_from_wire: %s", err.msg);
}

static void pool_drop_batches(struct pool *p)
{
    for (unsigned i = 0; i < p->n; i++) {
        if (p->req[i].batch)
            batch_unref(p->req[i].batch);
        p->req[i].batch = NULL;
    }
}

/* ---- downstream ------------------------------------------------------------------------------ */

struct sink {
    struct consumer c;
    bool verify;              /* walk every output and tally spans per trace */
    struct tally *tally;
    uint64_t batches, items, walked, unknown;
};

/* Traces released together share requests (ts_assemble_parts): spans are tallied per trace, and
 * a request may carry many traces. */
struct walk {
    struct sink *s;
};

static int walk_span(const uint8_t *p, const uint8_t *end, void *ctx)
{
    struct walk *w = ctx;
    if (end - p < 18 || p[0] != 0x0A || p[1] != 16)
        return -1;
    const uint8_t *id = p + 2;
    uint8_t key[16];
    memcpy(key, id, 16);
    unsigned pass = key[0];
    key[0] = 0;
    size_t slot = tally_slot(w->s->tally, key);
    if (!w->s->tally->in[slot] || pass >= MAX_PASSES)
        w->s->unknown++;
    else
        w->s->tally->out[slot * MAX_PASSES + pass]++;
    w->s->walked++;
    return 0;
}
static int walk_scope(const uint8_t *p, const uint8_t *end, void *ctx)
{
    return bench_each_field(p, end, 2, walk_span, ctx);
}
static int walk_resource(const uint8_t *p, const uint8_t *end, void *ctx)
{
    return bench_each_field(p, end, 2, walk_scope, ctx);
}

static enum consume_status sink_consume(struct consumer *self, struct batch *b)
{
    struct sink *s = (struct sink *)self;
    s->batches++;
    s->items += b->items;
    if (s->verify) {
        const uint8_t *data;
        size_t len;
        struct error err = {0};
        struct walk w = {.s = s};
        if (batch_encoded(b, &data, &len, &err) != 0 ||
            bench_each_field(data, data + len, 1, walk_resource, &w) != 0)
            die("the processor sent a malformed request%s", "");
    }
    return CONSUME_OK;
}

/* ---- the processor --------------------------------------------------------------------------- */

struct proc {
    struct cnode *root;
    struct tail_sampling_config cfg;
    struct telemetry *tel;
    void *p;
};

static int64_t fake_now;
static int64_t fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now;
}

/* The config.yaml block with its first four keys replaced (a YAML map cannot repeat a key). */
static void proc_new(struct proc *pr, struct sink *sink, int64_t decision_wait_s,
                     int64_t num_traces, int64_t max_bytes, int64_t cache)
{
    char yaml[4096];
    const char *rest = strstr(ts_yaml, "decision_cache:");
    const char *policies = strstr(rest, "propagate_attributes:");
    snprintf(yaml, sizeof yaml,
             "decision_wait: %" PRId64 "s\nnum_traces: %" PRId64 "\nmax_buffered_bytes: %" PRId64
             "\ndecision_cache:\n  sampled_cache_size: %" PRId64 "\n  non_sampled_cache_size: %"
             PRId64 "\n%s",
             decision_wait_s, num_traces, max_bytes, cache, cache, policies);
    struct error err = {0};
    memset(pr, 0, sizeof *pr);
    if (!(pr->root = config_parse_string(yaml, "<tail_sampling>", &err)))
        die("yaml: %s", err.msg);
    if (config_bind(tail_sampling_processor_factory.fields, pr->root, &pr->cfg, &err) != 0)
        die("config: %s", err.msg);
    if (tail_sampling_processor_factory.validate(&pr->cfg, &err) != 0)
        die("config: %s", err.msg);
    pr->tel = telemetry_new();
    struct component_env env = {0};
    env.id = "tail_sampling";
    env.log_name = "processor/tail_sampling";
    env.signal = SIGNAL_TRACES;
    env.next[SIGNAL_TRACES] = &sink->c;
    env.telemetry = pr->tel;
    if (!(pr->p = tail_sampling_processor_factory.create(&pr->cfg, &env, &err)))
        die("create: %s", err.msg);
    /* No start(): no timer thread; the clock and the decision passes are ours. */
    fake_now = 1000 * SEC;
    tail_sampling_set_clock(pr->p, fake_clock, NULL);
}

static void proc_free(struct proc *pr)
{
    tail_sampling_processor_factory.shutdown(pr->p, clock_now_ns() + SEC);
    tail_sampling_processor_factory.destroy(pr->p);
    config_free_bound(tail_sampling_processor_factory.fields, &pr->cfg);
    cnode_free(pr->root);
    telemetry_free(pr->tel);
}

static int64_t metric(struct proc *pr, const char *name, const char *extra)
{
    char labels[256];
    snprintf(labels, sizeof labels, LABELS "%s%s", extra ? "," : "", extra ? extra : "");
    return telemetry_value(pr->tel, name, labels);
}

static void consume(struct proc *pr, struct request *r)
{
    if (tail_sampling_processor_factory.consume(pr->p, r->batch) != CONSUME_OK)
        die("the processor refused a request%s", "");
}

/* Kept traces of `pass` must leave whole: out == in, or nothing. Returns kept traces. */
static uint64_t check_whole(const struct pool *p, const struct sink *s, unsigned pass,
                            uint64_t *kept_spans)
{
    uint64_t kept = 0, partial = 0;
    *kept_spans = 0;
    for (size_t i = 0; i <= p->tally.mask; i++) {
        if (!p->tally.in[i])
            continue;
        uint16_t out = p->tally.out[i * MAX_PASSES + pass];
        if (out == 0)
            continue;
        if (out != p->tally.in[i])
            partial++;
        kept++;
        *kept_spans += p->tally.in[i];
    }
    if (s->unknown) {
        fprintf(stderr, "tail_sampling_bench: %" PRIu64 " spans out of unknown traces\n",
                s->unknown);
        exit(1);
    }
    if (partial) {
        fprintf(stderr, "tail_sampling_bench: %" PRIu64 " kept traces left with a different span "
                        "count than went in\n", partial);
        exit(1);
    }
    return kept;
}

/* ---- (a) CPU --------------------------------------------------------------------------------- */

/* One pass: a fresh processor, every request 100 ms of fake time apart (10 requests/s), a
 * decision pass after each as the timer would run, then time enough for the last decisions.
 * Returns CPU seconds for ingest + decide + release, creation and teardown excluded. */
static int64_t cpu_num_traces = 50000, cpu_cache = 100000;

static double cpu_pass(struct pool *p, struct sink *s, uint64_t *decided)
{
    struct proc pr;
    proc_new(&pr, s, 10, cpu_num_traces, 268435456, cpu_cache);
    double c0 = bench_cpu();
    for (unsigned i = 0; i < p->n; i++) {
        fake_now += 100 * MS;
        consume(&pr, &p->req[i]);
        tail_sampling_tick(pr.p);
    }
    fake_now += 11 * SEC;
    tail_sampling_tick(pr.p);
    double cpu = bench_cpu() - c0;
    if (metric(&pr, PREFIX "sampling_traces_on_memory", NULL) != 0)
        die("traces left undecided after the drain%s", "");
    *decided = (uint64_t)(metric(&pr, PREFIX "global_count_traces_sampled", "sampled=\"true\"") +
                          metric(&pr, PREFIX "global_count_traces_sampled", "sampled=\"false\""));
    proc_free(&pr);
    return cpu;
}

/* The codec floor of codec_floor.c on these requests: unpack with the arena, pack, reset. */
static uint64_t floor_pass(struct pool *p, struct arena *a, uint8_t *out)
{
    uint64_t spans = 0;
    for (unsigned i = 0; i < p->n; i++) {
        trace_req *r = REQ_UNPACK(arena_allocator(a), p->req[i].len, p->req[i].data);
        if (!r)
            die("unpack failed%s", "");
        size_t len = REQ_SIZE(r);
        if (REQ_PACK(r, out) != len || len != p->req[i].len)
            die("pack size differs%s", "");
        arena_reset(a);
        spans += p->req[i].spans;
    }
    return spans;
}

int main(int argc, char **argv)
{
    unsigned nreq = 200, spans = 1000, window = 8, load = 10;
    uint64_t seed = 1;
    double seconds = 1;
    int64_t bound_mib = 32;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = bench_opt(argc, argv, &i, "--requests")))
            nreq = (unsigned)bench_atol("--requests", v, 1, 100000);
        else if ((v = bench_opt(argc, argv, &i, "--spans")))
            spans = (unsigned)bench_atol("--spans", v, 2, 100000);
        else if ((v = bench_opt(argc, argv, &i, "--window")))
            window = (unsigned)bench_atol("--window", v, 1, 64);
        else if ((v = bench_opt(argc, argv, &i, "--seed")))
            seed = (uint64_t)bench_atol("--seed", v, 1, 1L << 62);
        else if ((v = bench_opt(argc, argv, &i, "--seconds")))
            seconds = (double)bench_atol("--seconds", v, 1, 600);
        else if ((v = bench_opt(argc, argv, &i, "--bound-mib")))
            bound_mib = bench_atol("--bound-mib", v, 1, 1L << 20);
        else if ((v = bench_opt(argc, argv, &i, "--load")))
            load = (unsigned)bench_atol("--load", v, 2, 1000);
        else if ((v = bench_opt(argc, argv, &i, "--num-traces")))
            cpu_num_traces = bench_atol("--num-traces", v, 1, INT32_MAX);
        else if ((v = bench_opt(argc, argv, &i, "--cache")))
            cpu_cache = bench_atol("--cache", v, 0, INT32_MAX);
        else {
            fprintf(stderr, "usage: tail_sampling_bench [--requests N] [--spans N] [--window N] "
                            "[--seed N] [--seconds S] [--bound-mib M] [--load X] "
                            "[--num-traces N] [--cache N]\n");
            return 2;
        }
    }
    /* Quiet the processor's info lines (shutdown) on stderr: only our figures matter. */
    log_set_level(LOG_WARN);

    struct pool pool = {0};
    pool_build(&pool, nreq, spans, window, seed);
    for (unsigned i = 0; i < pool.n; i++)
        request_batch(&pool.req[i]);
    printf("== traffic: %u requests x %u spans, %" PRIu64 " traces (%.2f spans each, %.1f%% with "
           "an error), %.1f wire bytes/span, span field %.1f bytes (body %.1f)\n",
           nreq, spans, pool.traces, (double)pool.spans / (double)pool.traces,
           100.0 * (double)pool.error_traces / (double)pool.traces,
           (double)pool.wire_bytes / (double)pool.spans,
           (double)pool.span_field_bytes / (double)pool.spans,
           (double)pool.span_body_bytes / (double)pool.spans);

    /* ---- (a) CPU: a checked pass first, then alternate timed passes with the floor ---------- */
    struct sink sink = {.c.consume = sink_consume, .verify = true, .tally = &pool.tally};
    uint64_t decided;
    cpu_pass(&pool, &sink, &decided);
    uint64_t kept_spans, kept = check_whole(&pool, &sink, 0, &kept_spans);
    if (decided != pool.traces || sink.items != kept_spans || sink.walked != sink.items ||
        sink.batches > kept || (kept > 0 && sink.batches == 0)) {
        fprintf(stderr, "tail_sampling_bench: inconsistent output: %" PRIu64 " traces decided of %"
                        PRIu64 ", %" PRIu64 " spans out for %" PRIu64 " spans in kept traces, %"
                        PRIu64 " requests out for %" PRIu64 " kept traces (at most one each)\n",
                decided, pool.traces, sink.items, kept_spans, sink.batches, kept);
        return 1;
    }
    const uint64_t ref_items = sink.items, ref_batches = sink.batches;

    uint8_t *out = malloc(pool.max_len);
    struct arena *arena = arena_new(pool.max_len * 8);
    if (!out || !arena)
        die("out of memory%s", "");
    floor_pass(&pool, arena, out); /* warm */
    double ts_cpu = 0, fl_cpu = 0;
    uint64_t ts_spans = 0, fl_spans = 0;
    sink.verify = false;
    while (ts_cpu < seconds || fl_cpu < seconds) {
        sink.items = sink.batches = 0;
        ts_cpu += cpu_pass(&pool, &sink, &decided);
        if (sink.items != ref_items || sink.batches != ref_batches || decided != pool.traces)
            die("a timed pass released different output than the checked pass%s", "");
        ts_spans += pool.spans;
        double c0 = bench_cpu();
        fl_spans += floor_pass(&pool, arena, out);
        fl_cpu += bench_cpu() - c0;
    }
    arena_free(arena);
    free(out);
    double ts_m = ts_cpu / ((double)ts_spans / 1e6), fl_m = fl_cpu / ((double)fl_spans / 1e6);

    /* ---- (b) memory per buffered span: nothing decided ------------------------------------- */
    struct proc pr;
    sink = (struct sink){.c.consume = sink_consume, .verify = true, .tally = &pool.tally};
    proc_new(&pr, &sink, 3600, 10000000, INT64_MAX / 2, 100000);
    int64_t h0 = heap_used();
    for (unsigned i = 0; i < pool.n; i++) {
        fake_now += 100 * MS;
        consume(&pr, &pool.req[i]);
    }
    int64_t h1 = heap_used();
    int64_t acc = metric(&pr, "llmotlp_tail_sampling_buffered_bytes", NULL);
    int64_t held = metric(&pr, PREFIX "sampling_traces_on_memory", NULL);
    if (held != (int64_t)pool.traces || sink.items != 0)
        die("the memory run decided traces%s", "");
    proc_free(&pr);
    double n = (double)pool.spans;
    double acc_over = ((double)acc - (double)pool.span_field_bytes) / n;
    double real_over = ((double)(h1 - h0) - (double)pool.span_field_bytes) / n;
    /* Where the accounted bytes go (struct sizes from ts_internal.h, counts from the traffic). */
    double b_struct = (double)(pool.traces * sizeof(struct ts_trace)) / n;
    double b_hdr = (double)(pool.segments * sizeof(struct ts_seg_hdr)) / n;
    double b_prop = (double)pool.prop_bytes / n;
    double b_slack = acc_over - b_struct - b_hdr - b_prop;

    /* ---- (c) the bound: load x max_buffered_bytes of spans, no decision by time -------------- */
    const int64_t bound = bound_mib << 20;
    pool_drop_batches(&pool);
    memset(pool.tally.out, 0, (pool.tally.mask + 1) * MAX_PASSES * sizeof *pool.tally.out);
    sink = (struct sink){.c.consume = sink_consume, .verify = true, .tally = &pool.tally};
    int64_t hb0 = heap_used();
    proc_new(&pr, &sink, 3600, 50000, bound, 100000);
    int64_t hb_created = heap_used();
    int64_t peak = 0, peak_acc = 0;
    /* The peak heap growth once 1x, 2x, 5x and the whole load had arrived: flat when bounded. */
    static const double marks[] = {1, 2, 5};
    int64_t peak_at[3] = {0};
    uint64_t in_bytes = 0, in_spans = 0;
    unsigned pass = 0;
    while (in_bytes < (uint64_t)load * (uint64_t)bound) {
        if (++pass >= MAX_PASSES)
            die("--load too high for --requests%s", "");
        for (unsigned i = 0; i < pool.n; i++) {
            struct request *r = &pool.req[i];
            /* One input batch alive at a time: the heap figures are the processor's. */
            request_tag(r, (uint8_t)pass);
            request_batch(r);
            fake_now += 100 * MS;
            consume(&pr, r);
            batch_unref(r->batch);
            r->batch = NULL;
            in_bytes += r->len;
            in_spans += r->spans;
            int64_t h = heap_used() - hb0, a = metric(&pr, "llmotlp_tail_sampling_buffered_bytes", NULL);
            if (h > peak)
                peak = h;
            if (a > peak_acc)
                peak_acc = a;
            for (int m = 0; m < 3; m++)
                if ((double)in_bytes <= marks[m] * (double)bound && h > peak_at[m])
                    peak_at[m] = h;
        }
    }
    int64_t early = metric(&pr, PREFIX "early_decisions", "reason=\"max_buffered_bytes\"");
    int64_t early_n = metric(&pr, PREFIX "early_decisions", "reason=\"num_traces\"");
    /* Shutdown decides what is pending and sends it: then every trace has its outcome. */
    tail_sampling_processor_factory.shutdown(pr.p, clock_now_ns() + SEC);
    int64_t b_decided = metric(&pr, PREFIX "global_count_traces_sampled", "sampled=\"true\"") +
                        metric(&pr, PREFIX "global_count_traces_sampled", "sampled=\"false\"");
    int64_t b_late = metric(&pr, PREFIX "sampling_late_span_age", NULL);
    uint64_t b_kept = 0, b_kept_spans = 0;
    for (unsigned ps = 1; ps <= pass; ps++) {
        uint64_t ks;
        b_kept += check_whole(&pool, &sink, ps, &ks);
        b_kept_spans += ks;
    }
    if (sink.items != b_kept_spans) {
        fprintf(stderr, "tail_sampling_bench: bound run: %" PRIu64 " spans out for %" PRIu64
                        " spans in kept traces\n", sink.items, b_kept_spans);
        return 1;
    }
    int64_t cache_fixed = hb_created - hb0;
    /* The margin the processor is held to, none of it growing with the load:
     * - its fixed tables (decision caches, allocated at create, before any span);
     * - the kept-decision cache's copy of each kept trace's propagated attributes (not in the
     *   processor's account): at most sampled_cache_size copies, one malloc chunk of <= 64 bytes
     *   each for this traffic's tenant.id;
     * - 4 MiB for malloc headers of the buffered traces (their number is bounded by
     *   max_buffered_bytes / sizeof(struct ts_trace)) and the trace table. */
    int64_t margin = cache_fixed + (int64_t)pr.cfg.decision_cache.sampled_cache_size * 64 + (4 << 20);
    proc_free(&pr);
    bool bound_ok = peak <= bound + margin && early > 0;

    /* ---- report ---------------------------------------------------------------------------- */
    printf("== (a) CPU, ingest + decide + release, config.yaml policies, 10 requests/s of fake "
           "time, decision_wait 10s, num_traces %" PRId64 ", decision caches %" PRId64 "\n",
           cpu_num_traces, cpu_cache);
    printf("kept %" PRIu64 " of %" PRIu64 " traces (%.1f%%), %" PRIu64 " of %" PRIu64
           " spans; every kept trace left whole, in %" PRIu64 " requests\n",
           kept, pool.traces, 100.0 * (double)kept / (double)pool.traces, kept_spans, pool.spans,
           ref_batches);
    printf("%-52s %12s %10s\n", "", "CPU-s/M spans", "x floor");
    printf("%-52s %12.4f %10.2f\n", "tail_sampling: ingest + decide + release", ts_m, ts_m / fl_m);
    printf("%-52s %12.4f %10.2f\n", "codec floor: protobuf-c unpack + pack, arena", fl_m, 1.0);
    printf("spans/s through the processor alone (one thread): %.2f M\n", 1.0 / ts_m);
    printf("target (<= the codec floor): %s\n", ts_m <= fl_m ? "met" : "MISSED");

    printf("== (b) memory, %" PRIu64 " spans in %" PRIu64 " traces buffered, none decided\n",
           pool.spans, pool.traces);
    printf("%-52s %12s %14s\n", "", "bytes/span", "beyond the span");
    printf("%-52s %12.1f %14s\n", "span's own field (tag + length + Span)",
           (double)pool.span_field_bytes / n, "");
    printf("%-52s %12.1f %14.1f\n", "accounted (llmotlp_tail_sampling_buffered_bytes)",
           (double)acc / n, acc_over);
    printf("%-52s %12.1f %14.1f\n", "real heap growth (mallinfo2)", (double)(h1 - h0) / n,
           real_over);
    printf("accounted overhead per span: trace struct %.1f (%zu B per trace), segment headers "
           "%.1f (%.2f per trace), tenant.id copy %.1f, buffer slack + envelopes %.1f\n",
           b_struct, sizeof(struct ts_trace), b_hdr, (double)pool.segments / (double)pool.traces,
           b_prop, b_slack);
    if (h1 == h0)
        printf("(heap figures unavailable: malloc is not glibc's here, e.g. under ASan)\n");
    printf("target (<= 64 bytes beyond the span): accounted %s, real %s\n",
           acc_over <= 64 ? "met" : "MISSED", real_over <= 64 ? "met" : "MISSED");

    printf("== (c) bound: max_buffered_bytes %" PRId64 " MiB, %.1f MiB of spans in (%.1fx), "
           "decision_wait 1h\n",
           bound_mib, (double)in_bytes / 1048576.0, (double)in_bytes / (double)bound);
    printf("early decisions: %" PRId64 " (max_buffered_bytes), %" PRId64 " (num_traces); "
           "%" PRId64 " traces decided, %" PRIu64 " kept whole, %" PRId64 " late spans followed "
           "their decision\n",
           early, early_n, b_decided, b_kept, b_late);
    printf("peak accounted %.1f MiB; peak heap growth %.1f MiB, of which %.1f MiB fixed tables "
           "(decision caches); peak once 1x / 2x / 5x / %.1fx had arrived: %.1f / %.1f / %.1f / "
           "%.1f MiB\n",
           (double)peak_acc / 1048576.0, (double)peak / 1048576.0, (double)cache_fixed / 1048576.0,
           (double)in_bytes / (double)bound, (double)peak_at[0] / 1048576.0,
           (double)peak_at[1] / 1048576.0, (double)peak_at[2] / 1048576.0, (double)peak / 1048576.0);
    printf("heap beyond max_buffered_bytes: %.1f MiB; allowed margin (fixed tables + kept-cache "
           "attribute copies + 4 MiB): %.1f MiB: %s\n",
           (double)(peak - bound) / 1048576.0, (double)margin / 1048576.0,
           bound_ok ? "within" : "EXCEEDED");

    printf("{\"tail_sampling_cpu_s_per_million_spans\": %.4f, \"codec_floor_cpu_s_per_million_spans\": "
           "%.4f, \"ratio\": %.3f, \"spans_per_cpu_s\": %.0f, \"kept_traces_percent\": %.1f,\n"
           " \"span_field_bytes\": %.1f, \"accounted_overhead_bytes_per_span\": %.1f, "
           "\"heap_overhead_bytes_per_span\": %.1f,\n"
           " \"bound_bytes\": %" PRId64 ", \"bound_load\": %.1f, \"bound_peak_heap_bytes\": %" PRId64
           ", \"bound_peak_accounted_bytes\": %" PRId64 ", \"bound_fixed_tables_bytes\": %" PRId64
           ", \"early_decisions\": %" PRId64 "}\n",
           ts_m, fl_m, ts_m / fl_m, 1e6 / ts_m, 100.0 * (double)kept / (double)pool.traces,
           (double)pool.span_field_bytes / n, acc_over, real_over, bound,
           (double)in_bytes / (double)bound, peak, peak_acc, cache_fixed, early);

    pool_drop_batches(&pool);
    for (unsigned i = 0; i < pool.n; i++)
        free(pool.req[i].data);
    free(pool.req);
    free(pool.tally.id);
    free(pool.tally.in);
    free(pool.tally.out);
    if (!bound_ok) {
        fprintf(stderr, "tail_sampling_bench: %s\n",
                early ? "heap exceeded max_buffered_bytes + margin" : "no early decision happened");
        return 1;
    }
    return 0;
}
