/* bench_pipeline.h — what the in-process pipeline benchmarks share (ottl_bench, genai_bench):
 * a pool of packed trace requests, processors created through their factories from YAML and
 * chained as consumers, one pass of the pool through such a chain, and the codec floor pass.
 *
 * The one idea: every line a benchmark prints is the same path the service runs between its
 * receiver and its exporter — batch_from_wire, the chain's consume(), the encoded face at the
 * end — so a program only says which chain and which checks; the driving lives here once.
 * Header-only (static functions), like bench_common.h, since each program is built alone;
 * define BENCH_NAME (the program's name, for messages) before including it. Single-threaded. */
#ifndef LLMOTLP_BENCH_PIPELINE_H
#define LLMOTLP_BENCH_PIPELINE_H

#include "bench/bench_common.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/error.h"
#include "core/telemetry.h"

#ifndef BENCH_NAME
#error "define BENCH_NAME before including bench/bench_pipeline.h"
#endif

#define REQ_UNPACK opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack
#define REQ_FREE opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked
#define REQ_SIZE opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size
#define REQ_PACK opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest trace_req;

#define V_STRING OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define V_INT OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
#define V_DOUBLE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE
#define V_BOOL OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE

/* Prints "<BENCH_NAME>: " fmt (with its one %s) and exits 1. */
static inline void bench_die(const char *fmt, const char *arg)
{
    fprintf(stderr, BENCH_NAME ": ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exit(1);
}

/* The options every pipeline benchmark takes. */
struct bench_opts {
    unsigned nspans, npool;   /* spans per request, requests in the pool */
    uint64_t seed;
    double seconds;           /* CPU seconds each line runs at least */
};

/* [--spans 500] [--pool 32] [--seed 1] [--seconds 1]; anything else prints the usage line and
 * exits 2. */
static inline struct bench_opts bench_parse_opts(int argc, char **argv)
{
    struct bench_opts o = {.nspans = 500, .npool = 32, .seed = 1, .seconds = 1};
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = bench_opt(argc, argv, &i, "--spans")))
            o.nspans = (unsigned)bench_atol("--spans", v, 2, 100000);
        else if ((v = bench_opt(argc, argv, &i, "--pool")))
            o.npool = (unsigned)bench_atol("--pool", v, 1, 10000);
        else if ((v = bench_opt(argc, argv, &i, "--seed")))
            o.seed = (uint64_t)bench_atol("--seed", v, 1, 1L << 62);
        else if ((v = bench_opt(argc, argv, &i, "--seconds")))
            o.seconds = (double)bench_atol("--seconds", v, 1, 600);
        else {
            fprintf(stderr, "usage: " BENCH_NAME " [--spans N] [--pool N] [--seed N] [--seconds S]\n");
            exit(2);
        }
    }
    return o;
}

/* One packed request of the pool. */
struct payload {
    uint8_t *data;
    size_t len;
    unsigned spans;
};

/* ---- a processor through its factory, and the consumer that hands a batch to it ------------- */

struct hop {
    struct consumer c;
    const struct component_factory *f;
    void *self;
    void *cfg;
    struct cnode *node;   /* kept: a config may point into its YAML (transform's statements) */
};

static inline enum consume_status bench_hop_consume(struct consumer *c, struct batch *b)
{
    struct hop *h = (struct hop *)c;
    return h->f->consume(h->self, b);
}

/* The processor `type` bound from yaml, created with next as its traces consumer and started;
 * NULL when this build has no such processor. Any other failure ends the program. `in` is the
 * span-index interest the processor declares its keys into, as core/service.c passes the
 * service's one to every component (NULL: every attribute is indexed). */
static inline struct hop *bench_hop_new_in(const char *type, const char *yaml,
                                           struct consumer *next, struct telemetry *tel,
                                           struct wire_interest *in)
{
    const struct component_factory *f = component_find(COMPONENT_PROCESSOR, type);
    if (!f)
        return NULL;
    struct hop *h = calloc(1, sizeof *h);
    if (!h)
        bench_die("out of memory%s", "");
    h->f = f;
    h->c.consume = bench_hop_consume;
    h->cfg = calloc(1, f->config_size);
    struct error err = {0};
    h->node = config_parse_string(yaml, type, &err);
    if (!h->cfg || !h->node || config_bind(f->fields, h->node, h->cfg, &err) != 0 ||
        (f->validate && f->validate(h->cfg, &err) != 0))
        bench_die("config: %s", err.msg);
    struct component_env env = {.id = type, .log_name = type, .signal = SIGNAL_TRACES,
                                .telemetry = tel, .interest = in};
    env.next[SIGNAL_TRACES] = next;
    h->self = f->create(h->cfg, &env, &err);
    if (!h->self || (f->start && f->start(h->self, &err) != 0))
        bench_die("create: %s", err.msg);
    return h;
}

static inline struct hop *bench_hop_new(const char *type, const char *yaml, struct consumer *next,
                                        struct telemetry *tel)
{
    return bench_hop_new_in(type, yaml, next, tel, NULL);
}

static inline void bench_hop_free(struct hop *h)
{
    if (!h)
        return;
    if (h->f->shutdown)
        h->f->shutdown(h->self, clock_now_ns() + 1000000000LL);
    h->f->destroy(h->self);
    config_free_bound(h->f->fields, h->cfg);
    cnode_free(h->node);
    free(h->cfg);
    free(h);
}

/* ---- the end of a line ---------------------------------------------------------------------- */

/* What a sink does first: the batch's encoded face, as an OTLP exporter asks for it (*data and
 * *len, owned by the batch), and the number of spans those bytes hold. */
static inline uint64_t bench_encoded_spans(struct batch *b, const uint8_t **data, size_t *len)
{
    struct error err = {0};
    if (batch_encoded(b, data, len, &err) != 0)
        bench_die("batch_encoded: %s", err.msg);
    int64_t n = bench_count_spans(*data, *len);
    if (n < 0)
        bench_die("the line sent malformed bytes%s", "");
    return (uint64_t)n;
}

/* ---- passes --------------------------------------------------------------------------------- */

/* One pass of the pool through `first` (NULL: straight to `sink`). Returns the spans sent. */
static inline uint64_t bench_pipeline_pass(const struct payload *pool, unsigned n,
                                           struct consumer *first, struct consumer *sink)
{
    uint64_t spans = 0;
    for (unsigned i = 0; i < n; i++) {
        struct error err = {0};
        struct batch *b = batch_from_wire(SIGNAL_TRACES, pool[i].data, pool[i].len, &err);
        if (!b)
            bench_die("batch_from_wire: %s", err.msg);
        if (consumer_send(first ? first : sink, b) != CONSUME_OK)
            bench_die("a request was refused%s", "");
        batch_unref(b);
        spans += pool[i].spans;
    }
    return spans;
}

/* The codec floor: protobuf-c unpack (into the arena) and pack of each request. */
static inline uint64_t bench_floor_pass(const struct payload *pool, unsigned n, struct arena *a,
                                        uint8_t *out)
{
    uint64_t spans = 0;
    for (unsigned i = 0; i < n; i++) {
        trace_req *r = REQ_UNPACK(arena_allocator(a), pool[i].len, pool[i].data);
        if (!r)
            bench_die("unpack failed%s", "");
        size_t len = REQ_SIZE(r);
        if (REQ_PACK(r, out) != len || len != pool[i].len)
            bench_die("pack size differs%s", "");
        arena_reset(a);
        spans += pool[i].spans;
    }
    return spans;
}

#endif
