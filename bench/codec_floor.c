/* codec_floor.c — the codec floor: CPU time per million spans that a relay which decodes and
 * re-encodes each request must spend at least, measured on the same requests as the load
 * generator, in one process, with no network.
 * The one idea: whatever a decode-and-re-encode relay does besides the codec only adds to this,
 * so a passthrough relay that stays below it has beaten every such relay on its own ground.
 * Measured: protobuf-c unpack + pack with the default (malloc) allocator and with the bump arena
 * of core/arena.h, unpack and pack alone, and otlp_scan alone (llmotlp's validate-only path).
 * Every variant first checks its result (re-packed bytes identical to the input, scan count equal
 * to the spans built) so a broken codec cannot produce a flattering figure.
 *
 * usage: codec_floor [--spans 500 | --spans-min A --spans-max B] [--pool 32] [--seed 1]
 *                    [--seconds 1] */
#include <inttypes.h>

#include "bench/bench_common.h"
#include "core/error.h"
#include "core/otlp.h"

#define REQ_UNPACK opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack
#define REQ_FREE opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked
#define REQ_SIZE opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size
#define REQ_PACK opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest trace_req;

struct payload {
    uint8_t *data;
    size_t len;
    unsigned spans;
};

struct ctx {
    struct payload *pool;
    unsigned n;
    uint8_t *out;          /* pack target, as large as the largest request */
    struct arena *arena;   /* reset after every request */
    trace_req **decoded;   /* for the pack-only variant: the pool decoded once */
};

static void die(const char *what, unsigned i)
{
    fprintf(stderr, "codec_floor: %s (request %u)\n", what, i);
    exit(1);
}

/* One pass over the pool per call; returns spans processed. */
static uint64_t run_unpack_pack_malloc(struct ctx *c)
{
    uint64_t spans = 0;
    for (unsigned i = 0; i < c->n; i++) {
        trace_req *r = REQ_UNPACK(NULL, c->pool[i].len, c->pool[i].data);
        if (!r)
            die("unpack failed", i);
        size_t len = REQ_SIZE(r);
        if (REQ_PACK(r, c->out) != len || len != c->pool[i].len)
            die("pack size differs", i);
        REQ_FREE(r, NULL);
        spans += c->pool[i].spans;
    }
    return spans;
}

static uint64_t run_unpack_pack_arena(struct ctx *c)
{
    uint64_t spans = 0;
    for (unsigned i = 0; i < c->n; i++) {
        trace_req *r = REQ_UNPACK(arena_allocator(c->arena), c->pool[i].len, c->pool[i].data);
        if (!r)
            die("unpack failed", i);
        size_t len = REQ_SIZE(r);
        if (REQ_PACK(r, c->out) != len || len != c->pool[i].len)
            die("pack size differs", i);
        arena_reset(c->arena);
        spans += c->pool[i].spans;
    }
    return spans;
}

static uint64_t run_unpack_arena(struct ctx *c)
{
    uint64_t spans = 0;
    for (unsigned i = 0; i < c->n; i++) {
        if (!REQ_UNPACK(arena_allocator(c->arena), c->pool[i].len, c->pool[i].data))
            die("unpack failed", i);
        arena_reset(c->arena);
        spans += c->pool[i].spans;
    }
    return spans;
}

static uint64_t run_pack(struct ctx *c)
{
    uint64_t spans = 0;
    for (unsigned i = 0; i < c->n; i++) {
        size_t len = REQ_SIZE(c->decoded[i]);
        if (REQ_PACK(c->decoded[i], c->out) != len)
            die("pack size differs", i);
        spans += c->pool[i].spans;
    }
    return spans;
}

static uint64_t run_scan(struct ctx *c)
{
    uint64_t spans = 0;
    for (unsigned i = 0; i < c->n; i++) {
        struct otlp_scan_result res;
        struct error err;
        if (otlp_scan(SIGNAL_TRACES, c->pool[i].data, c->pool[i].len, &res, &err) != 0)
            die(err.msg, i);
        if (res.items != c->pool[i].spans)
            die("otlp_scan counted a different number of spans", i);
        spans += res.items;
    }
    return spans;
}

struct variant {
    const char *name, *what;
    uint64_t (*run)(struct ctx *);
    double cpu_per_mspans, mb_per_s;
};

int main(int argc, char **argv)
{
    unsigned spans_min = 500, spans_max = 500, npool = 32;
    uint64_t seed = 1;
    double seconds = 1.0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = bench_opt(argc, argv, &i, "--spans")))
            spans_min = spans_max = (unsigned)bench_atol("--spans", v, 1, 1000000);
        else if ((v = bench_opt(argc, argv, &i, "--spans-min")))
            spans_min = (unsigned)bench_atol("--spans-min", v, 1, 1000000);
        else if ((v = bench_opt(argc, argv, &i, "--spans-max")))
            spans_max = (unsigned)bench_atol("--spans-max", v, 1, 1000000);
        else if ((v = bench_opt(argc, argv, &i, "--pool")))
            npool = (unsigned)bench_atol("--pool", v, 1, 100000);
        else if ((v = bench_opt(argc, argv, &i, "--seed")))
            seed = (uint64_t)bench_atol("--seed", v, 1, 1L << 62);
        else if ((v = bench_opt(argc, argv, &i, "--seconds")))
            seconds = (double)bench_atol("--seconds", v, 1, 600);
        else {
            fprintf(stderr, "usage: codec_floor [--spans N | --spans-min A --spans-max B] [--pool N] "
                            "[--seed N] [--seconds S]\n");
            return 2;
        }
    }
    if (spans_max < spans_min)
        spans_max = spans_min;

    /* Same generator and seed derivation as loadgen: the same requests. */
    struct ctx c = {.n = npool};
    c.pool = calloc(npool, sizeof *c.pool);
    c.decoded = calloc(npool, sizeof *c.decoded);
    uint64_t rng = seed * 0x9E3779B97F4A7C15ULL | 1;
    size_t maxlen = 0, total_bytes = 0;
    uint64_t total_spans = 0;
    for (unsigned i = 0; i < npool; i++) {
        c.pool[i].spans = bench_pool_size(i, npool, spans_min, spans_max);
        c.pool[i].data = bench_request_build(&rng, c.pool[i].spans, &c.pool[i].len);
        if (!c.pool[i].data)
            die("out of memory", i);
        if (bench_count_spans(c.pool[i].data, c.pool[i].len) != (int64_t)c.pool[i].spans)
            die("generated request has the wrong span count", i);
        if (c.pool[i].len > maxlen)
            maxlen = c.pool[i].len;
        total_bytes += c.pool[i].len;
        total_spans += c.pool[i].spans;
    }
    c.out = malloc(maxlen);
    /* First block big enough for a whole decoded request, so reset never returns memory to malloc
     * (a decoded request takes about 5x its wire size). */
    c.arena = arena_new(maxlen * 8);
    struct arena *keep = arena_new(0);
    if (!c.out || !c.arena || !keep)
        die("out of memory", 0);

    /* Correctness first: a re-encode must give back the very bytes that came in. */
    for (unsigned i = 0; i < npool; i++) {
        c.decoded[i] = REQ_UNPACK(arena_allocator(keep), c.pool[i].len, c.pool[i].data);
        if (!c.decoded[i] || REQ_PACK(c.decoded[i], c.out) != c.pool[i].len ||
            memcmp(c.out, c.pool[i].data, c.pool[i].len) != 0)
            die("unpack + pack did not reproduce the request bytes", i);
    }

    struct variant vs[] = {
        {"unpack_pack_malloc", "protobuf-c unpack + pack, default allocator", run_unpack_pack_malloc, 0, 0},
        {"unpack_pack_arena", "protobuf-c unpack + pack, core/arena.h allocator", run_unpack_pack_arena, 0, 0},
        {"unpack_arena", "protobuf-c unpack alone, arena", run_unpack_arena, 0, 0},
        {"pack", "protobuf-c get_packed_size + pack alone", run_pack, 0, 0},
        {"otlp_scan", "otlp_scan alone (validate + count, no decode)", run_scan, 0, 0},
    };
    size_t nv = sizeof vs / sizeof vs[0];
    for (size_t v = 0; v < nv; v++) {
        vs[v].run(&c); /* warm caches and the allocator */
        uint64_t spans = 0, passes = 0;
        double c0 = bench_cpu(), cpu;
        do {
            spans += vs[v].run(&c);
            passes++;
            cpu = bench_cpu() - c0;
        } while (cpu < seconds);
        vs[v].cpu_per_mspans = cpu / ((double)spans / 1e6);
        vs[v].mb_per_s = (double)total_bytes * (double)passes / cpu / 1e6;
    }

    printf("{\"spans_per_request\": [%u, %u], \"requests\": %u, \"bytes_per_span\": %.1f,\n",
           spans_min, spans_max, npool, (double)total_bytes / (double)total_spans);
    for (size_t v = 0; v < nv; v++)
        printf(" \"%s\": {\"cpu_s_per_million_spans\": %.4f, \"wire_mb_per_s\": %.0f, \"what\": \"%s\"},\n",
               vs[v].name, vs[v].cpu_per_mspans, vs[v].mb_per_s, vs[v].what);
    /* The floor is the cheaper of the two full codecs (the arena one, unless something is off). */
    double fl = vs[0].cpu_per_mspans < vs[1].cpu_per_mspans ? vs[0].cpu_per_mspans : vs[1].cpu_per_mspans;
    printf(" \"codec_floor_cpu_s_per_million_spans\": %.4f}\n", fl);

    arena_free(keep);
    arena_free(c.arena);
    for (unsigned i = 0; i < npool; i++)
        free(c.pool[i].data);
    free(c.pool);
    free(c.decoded);
    free(c.out);
    return 0;
}
