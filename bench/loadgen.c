/* loadgen.c — OTLP/gRPC trace load generator: sends pre-encoded LLM-gateway
 * ExportTraceServiceRequests to TraceService/Export with a fixed number of calls in flight.
 * The one idea: all requests are encoded before the clock starts and shared as gRPC slices, so
 * the generator spends its CPU on gRPC alone and the figures describe the receiving side.
 * One completion queue, one thread: each completion starts the next call on its slot.
 * UNAVAILABLE / RESOURCE_EXHAUSTED are backpressure: counted and retried after a short pause,
 * so they show up in the summary without losing spans. Exit status 1 if any request failed
 * (another status, or still refused after MAX_RETRIES pauses).
 *
 * usage: loadgen --endpoint HOST:PORT [--concurrency 8] [--spans 500 | --spans-min A --spans-max B]
 *                [--pool 32] [--duration 10 | --requests R] [--seed 1] [--timeout-ms 30000] */
#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <inttypes.h>
#include <stdbool.h>

#include "bench/bench_common.h"

#define METHOD "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
#define RETRY_PAUSE_S 0.05
#define MAX_RETRIES 200 /* 10 s of pauses: past that the receiver is gone, not busy */

struct payload {
    grpc_slice slice;
    uint64_t spans;
    size_t len;
};

struct slot {
    grpc_call *call;
    struct payload *pl;
    grpc_byte_buffer *send, *recv;
    grpc_metadata_array initial_md, trailing_md;
    grpc_status_code status;
    grpc_slice details;
    double retry_at;  /* > 0: waiting to resend pl */
    unsigned retries; /* of pl so far */
    bool busy;
};

struct stats {
    uint64_t ok, failed, backpressure, abandoned, spans_ok, bytes_ok, started;
    uint64_t by_status[17];
};

static struct {
    const char *endpoint;
    unsigned concurrency, spans_min, spans_max, pool;
    double duration;
    uint64_t requests, seed;
    long timeout_ms;
} opt = {NULL, 8, 500, 500, 32, 10, 0, 1, 30000};

static grpc_channel *channel;
static grpc_completion_queue *cq;

static void usage(void)
{
    fprintf(stderr, "usage: loadgen --endpoint HOST:PORT [--concurrency N] [--spans N | --spans-min A "
                    "--spans-max B] [--pool N] [--duration SEC | --requests N] [--seed N] "
                    "[--timeout-ms MS]\n");
    exit(2);
}

static void parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = bench_opt(argc, argv, &i, "--endpoint")))
            opt.endpoint = v;
        else if ((v = bench_opt(argc, argv, &i, "--concurrency")))
            opt.concurrency = (unsigned)bench_atol("--concurrency", v, 1, 4096);
        else if ((v = bench_opt(argc, argv, &i, "--spans")))
            opt.spans_min = opt.spans_max = (unsigned)bench_atol("--spans", v, 1, 1000000);
        else if ((v = bench_opt(argc, argv, &i, "--spans-min")))
            opt.spans_min = (unsigned)bench_atol("--spans-min", v, 1, 1000000);
        else if ((v = bench_opt(argc, argv, &i, "--spans-max")))
            opt.spans_max = (unsigned)bench_atol("--spans-max", v, 1, 1000000);
        else if ((v = bench_opt(argc, argv, &i, "--pool")))
            opt.pool = (unsigned)bench_atol("--pool", v, 1, 100000);
        else if ((v = bench_opt(argc, argv, &i, "--duration")))
            opt.duration = (double)bench_atol("--duration", v, 1, 86400), opt.requests = 0;
        else if ((v = bench_opt(argc, argv, &i, "--requests")))
            opt.requests = (uint64_t)bench_atol("--requests", v, 1, 1L << 40), opt.duration = 0;
        else if ((v = bench_opt(argc, argv, &i, "--seed")))
            opt.seed = (uint64_t)bench_atol("--seed", v, 1, 1L << 62);
        else if ((v = bench_opt(argc, argv, &i, "--timeout-ms")))
            opt.timeout_ms = bench_atol("--timeout-ms", v, 1, 3600000);
        else
            usage();
    }
    if (!opt.endpoint || opt.spans_max < opt.spans_min)
        usage();
}

static void slot_start(struct slot *s)
{
    gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                         gpr_time_from_millis(opt.timeout_ms, GPR_TIMESPAN));
    s->call = grpc_channel_create_call(channel, NULL, GRPC_PROPAGATE_DEFAULTS, cq,
                                       grpc_slice_from_static_string(METHOD), NULL, deadline, NULL);
    s->send = grpc_raw_byte_buffer_create(&s->pl->slice, 1); /* takes a ref, no copy */
    s->recv = NULL;
    grpc_metadata_array_init(&s->initial_md);
    grpc_metadata_array_init(&s->trailing_md);
    s->details = grpc_empty_slice();
    s->retry_at = 0;
    s->busy = true;

    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = s->send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &s->initial_md;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &s->recv;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.status = &s->status;
    ops[5].data.recv_status_on_client.status_details = &s->details;
    ops[5].data.recv_status_on_client.trailing_metadata = &s->trailing_md;
    grpc_call_error e = grpc_call_start_batch(s->call, ops, 6, s, NULL);
    if (e != GRPC_CALL_OK) {
        fprintf(stderr, "loadgen: grpc_call_start_batch failed: %d\n", (int)e);
        exit(1);
    }
}

static void slot_finish(struct slot *s)
{
    grpc_byte_buffer_destroy(s->send);
    if (s->recv)
        grpc_byte_buffer_destroy(s->recv);
    grpc_metadata_array_destroy(&s->initial_md);
    grpc_metadata_array_destroy(&s->trailing_md);
    grpc_slice_unref(s->details);
    grpc_call_unref(s->call);
    s->call = NULL;
    s->busy = false;
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);

    /* Encode every request before any clock starts. */
    struct payload *pool = calloc(opt.pool, sizeof *pool);
    uint64_t rng = opt.seed * 0x9E3779B97F4A7C15ULL | 1;
    size_t pool_bytes = 0;
    uint64_t pool_spans = 0;
    for (unsigned i = 0; i < opt.pool; i++) {
        unsigned n = bench_pool_size(i, opt.pool, opt.spans_min, opt.spans_max);
        size_t len;
        uint8_t *buf = bench_request_build(&rng, n, &len);
        if (!buf) {
            fprintf(stderr, "loadgen: out of memory\n");
            return 1;
        }
        pool[i].slice = grpc_slice_new(buf, len, free);
        pool[i].spans = n;
        pool[i].len = len;
        pool_bytes += len;
        pool_spans += n;
    }

    grpc_init();
    grpc_arg args[] = {
        {GRPC_ARG_INTEGER, GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, {.integer = -1}},
        {GRPC_ARG_STRING, GRPC_ARG_PRIMARY_USER_AGENT_STRING, {.string = "llmotlp-loadgen"}},
    };
    grpc_channel_args cargs = {sizeof args / sizeof args[0], args};
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    channel = grpc_channel_create(opt.endpoint, creds, &cargs);
    grpc_channel_credentials_release(creds);
    cq = grpc_completion_queue_create_for_next(NULL);

    struct slot *slots = calloc(opt.concurrency, sizeof *slots);
    struct stats st;
    memset(&st, 0, sizeof st);
    unsigned next_pl = 0, inflight = 0;
    double t0 = bench_now(), c0 = bench_cpu();
    double end_at = opt.duration > 0 ? t0 + opt.duration : 0;
    bool stopping = false;

    for (unsigned i = 0; i < opt.concurrency; i++) {
        if (opt.requests && st.started >= opt.requests)
            break;
        slots[i].pl = &pool[next_pl++ % opt.pool];
        st.started++;
        slot_start(&slots[i]);
        inflight++;
    }

    while (inflight > 0) {
        double now = bench_now();
        if (end_at && now >= end_at)
            stopping = true;
        /* Wake for the earliest pending retry, or at least every 100 ms to watch the clock. */
        double wake = now + 0.1;
        for (unsigned i = 0; i < opt.concurrency; i++) {
            struct slot *s = &slots[i];
            if (!s->busy && s->retry_at > 0) {
                if (stopping) { /* refused and the run is over: never accepted, so not lost */
                    s->retry_at = 0;
                    st.abandoned++;
                    inflight--;
                } else if (s->retry_at <= now) {
                    slot_start(s);
                } else if (s->retry_at < wake) {
                    wake = s->retry_at;
                }
            }
        }
        if (inflight == 0)
            break;
        gpr_timespec dl = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                       gpr_time_from_micros((int64_t)((wake - now) * 1e6) + 1, GPR_TIMESPAN));
        grpc_event ev = grpc_completion_queue_next(cq, dl, NULL);
        if (ev.type == GRPC_QUEUE_TIMEOUT)
            continue;
        if (ev.type != GRPC_OP_COMPLETE) {
            fprintf(stderr, "loadgen: unexpected completion queue event %d\n", (int)ev.type);
            return 1;
        }
        struct slot *s = ev.tag;
        grpc_status_code code = ev.success ? s->status : GRPC_STATUS_UNKNOWN;
        if (code == GRPC_STATUS_UNKNOWN && !ev.success)
            fprintf(stderr, "loadgen: call batch failed\n");
        st.by_status[(unsigned)code < 17 ? (unsigned)code : 2]++;
        struct payload *pl = s->pl;
        if (code != GRPC_STATUS_OK && code != GRPC_STATUS_UNAVAILABLE &&
            code != GRPC_STATUS_RESOURCE_EXHAUSTED && st.failed < 5) {
            char *d = grpc_slice_to_c_string(s->details);
            fprintf(stderr, "loadgen: status %d: %s\n", (int)code, d);
            gpr_free(d);
        }
        slot_finish(s);
        if (code == GRPC_STATUS_OK) {
            st.ok++;
            st.spans_ok += pl->spans;
            st.bytes_ok += pl->len;
        } else if (code == GRPC_STATUS_UNAVAILABLE || code == GRPC_STATUS_RESOURCE_EXHAUSTED) {
            st.backpressure++;
            if (!stopping && ++s->retries <= MAX_RETRIES) {
                s->retry_at = bench_now() + RETRY_PAUSE_S;
                continue; /* still in flight from the caller's point of view */
            }
            if (stopping)
                st.abandoned++;
            else
                st.failed++;
        } else {
            st.failed++;
        }
        if (bench_now() >= end_at && end_at)
            stopping = true;
        if (!stopping && (!opt.requests || st.started < opt.requests)) {
            s->pl = &pool[next_pl++ % opt.pool];
            s->retries = 0;
            st.started++;
            slot_start(s);
        } else {
            inflight--;
        }
    }
    double elapsed = bench_now() - t0, cpu = bench_cpu() - c0;

    printf("{\"endpoint\": \"%s\", \"concurrency\": %u, \"spans_per_request\": [%u, %u], "
           "\"avg_request_bytes\": %.0f, \"bytes_per_span\": %.1f,\n"
           " \"requests_ok\": %" PRIu64 ", \"requests_failed\": %" PRIu64
           ", \"backpressure_retries\": %" PRIu64 ", \"requests_abandoned\": %" PRIu64 ",\n"
           " \"spans_sent\": %" PRIu64 ", \"bytes_sent\": %" PRIu64 ", \"elapsed_s\": %.3f, "
           "\"spans_per_s\": %.0f, \"loadgen_cpu_s\": %.3f}\n",
           opt.endpoint, opt.concurrency, opt.spans_min, opt.spans_max,
           (double)pool_bytes / opt.pool, (double)pool_bytes / (double)pool_spans, st.ok, st.failed,
           st.backpressure, st.abandoned, st.spans_ok, st.bytes_ok, elapsed,
           elapsed > 0 ? (double)st.spans_ok / elapsed : 0.0, cpu);
    fflush(stdout);

    grpc_channel_destroy(channel);
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type != GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(cq);
    for (unsigned i = 0; i < opt.pool; i++)
        grpc_slice_unref(pool[i].slice);
    free(pool);
    free(slots);
    grpc_shutdown();
    return st.failed ? 1 : 0;
}
