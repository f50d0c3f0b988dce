/* loadgen.c — OTLP trace load generator: sends pre-encoded LLM-gateway
 * ExportTraceServiceRequests with a fixed number of requests in flight, over OTLP/gRPC
 * (TraceService/Export) or OTLP/HTTP (POST application/x-protobuf to a URL).
 * The one idea: all requests are encoded before the clock starts and shared by reference (gRPC
 * slices, or the same buffer as every POST body), so the generator spends its CPU on the
 * transport alone and the figures describe the receiving side.
 * One thread either way: one completion queue (gRPC) or one curl multi handle over keep-alive
 * connections (HTTP); each completion starts the next request on its slot.
 * Backpressure (gRPC UNAVAILABLE / RESOURCE_EXHAUSTED, HTTP 503 / 429) is counted and retried
 * after a short pause, so it shows up in the summary without losing spans. Exit status 1 if any
 * request failed (another status, a transport error, or still refused after MAX_RETRIES pauses).
 *
 * Closed loop by default (every free slot sends at once). With --rate R it is open loop: request
 * k is due at start + k/R on the monotonic clock whatever the answers do, and its latency counts
 * from that due time, so a slow receiver cannot hide behind a sender that waited for it
 * (a due request finding every slot busy starts late, counted in late_starts).
 * --traffic picks the request shape (bench_common.h: plain, or the LLM-gateway shapes with 10%
 * failing traces and legacy GenAI names; or gen-NAMING: the traffic of `llmotlp gen`, its model
 * linked in, with about --spans spans per request: agents, fallbacks, four namings); --unique-traces gives each send of a pooled request new
 * trace IDs in place (8 bytes XORed per span, the request never in flight meanwhile), so a tail
 * sampler sees every trace once, as in production, instead of the pool's traces again and again.
 *
 * usage: loadgen (--endpoint HOST:PORT | --http URL) [--concurrency 8]
 *                [--spans 500 | --spans-min A --spans-max B] [--pool 32]
 *                [--duration 10 | --requests R] [--seed 1] [--timeout-ms 30000]
 *                [--rate REQ_PER_S] [--traffic plain|llm|llm-legacy|gen-NAMING] [--unique-traces]
 *                [--authorization VALUE]   (sent as `authorization` metadata / header) */
#include <curl/curl.h>
#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <inttypes.h>
#include <stdbool.h>

#include "bench/bench_common.h"
#include "cmd/llmotlp/gen_model.h"

#define METHOD "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
#define RETRY_PAUSE_S 0.05
#define MAX_RETRIES 200 /* 10 s of pauses: past that the receiver is gone, not busy */
#define LATE_S 0.002    /* --rate: a request started this far past its due time is late */

struct payload {
    uint8_t *buf;     /* the encoded request, owned by the pool */
    grpc_slice slice; /* gRPC mode: a reference to buf */
    uint64_t spans, error_spans;
    size_t len;
    struct bench_trace_ids tids; /* --unique-traces: where its trace IDs lie */
    uint64_t stamp;              /* XORed into the first 8 bytes of every trace ID so far */
    unsigned inflight;           /* slots sending it now: never restamped then */
};

struct slot {
    grpc_call *call;
    struct payload *pl;
    grpc_byte_buffer *send, *recv;
    grpc_metadata_array initial_md, trailing_md;
    grpc_status_code status;
    grpc_slice details;
    CURL *easy;        /* HTTP mode: reused, so its connection stays alive */
    char errbody[256]; /* HTTP mode: start of the response body, for error messages */
    size_t errlen;
    double retry_at;  /* > 0: waiting to resend pl */
    double t_first;   /* due time (--rate) or first start of pl: latency counts from here */
    unsigned retries; /* of pl so far */
    bool busy;
};

struct stats {
    uint64_t ok, failed, backpressure, abandoned, spans_ok, bytes_ok, started, error_spans_ok;
    uint64_t late, reused; /* --rate starts past due; --unique-traces sends with old trace IDs */
};

static struct {
    const char *endpoint, *http_url;
    unsigned concurrency, spans_min, spans_max, pool;
    double duration;
    uint64_t requests, seed;
    long timeout_ms;
    const char *authorization;    /* NULL = no credential sent */
    double rate;                  /* requests per second; 0 = closed loop */
    const char *traffic;
    bool unique_traces;
} opt = {NULL, NULL, 8, 500, 500, 32, 10, 0, 1, 30000, NULL, 0, "plain", false};
static grpc_metadata auth_md[1];  /* gRPC: the authorization metadata, when given */

/* What a finished request means for the run. */
enum outcome { OUT_OK, OUT_BACKPRESSURE, OUT_FAILED };

/* A transport: start sends slot->pl; wait returns the next finished slot (its resources
 * released, busy cleared) or NULL when timeout_s passes first. */
struct transport {
    void (*start)(struct slot *s);
    struct slot *(*wait)(double timeout_s, enum outcome *out);
};

static uint64_t n_reported; /* error messages printed so far: the first few are enough */
static uint64_t n_connects; /* HTTP: connections opened; equal to the concurrency = keep-alive held */

/* ---- OTLP/gRPC ---------------------------------------------------------------------------- */

static grpc_channel *channel;
static grpc_completion_queue *cq;

static void usage(void)
{
    fprintf(stderr, "usage: loadgen (--endpoint HOST:PORT | --http URL) [--concurrency N] [--spans N | --spans-min A "
                    "--spans-max B] [--pool N] [--duration SEC | --requests N] [--seed N] "
                    "[--timeout-ms MS] [--rate REQ_PER_S] [--traffic plain|llm|llm-legacy|gen-semconv|gen-legacy|"
                    "gen-openinference|gen-openllmetry|gen-mixed] [--unique-traces] "
                    "[--authorization VALUE]\n");
    exit(2);
}

/* --traffic gen-NAMING: the naming of `llmotlp gen` traffic; -1 when the traffic is not gen's. */
static int gen_traffic_naming(const char *traffic)
{
    return strncmp(traffic, "gen-", 4) == 0 ? gen_naming_parse(traffic + 4) : -1;
}

static void parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = bench_opt(argc, argv, &i, "--endpoint")))
            opt.endpoint = v;
        else if ((v = bench_opt(argc, argv, &i, "--http")))
            opt.http_url = v;
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
        else if ((v = bench_opt(argc, argv, &i, "--authorization")))
            opt.authorization = v;
        else if ((v = bench_opt(argc, argv, &i, "--rate")))
            opt.rate = (double)bench_atol("--rate", v, 1, 1000000);
        else if ((v = bench_opt(argc, argv, &i, "--traffic")))
            opt.traffic = v;
        else if (strcmp(argv[i], "--unique-traces") == 0)
            opt.unique_traces = true;
        else
            usage();
    }
    if (!opt.endpoint == !opt.http_url || opt.spans_max < opt.spans_min ||
        (!bench_shape_named(opt.traffic) && gen_traffic_naming(opt.traffic) < 0))
        usage();
}

static void grpc_start(struct slot *s)
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
    if (opt.authorization) {
        ops[0].data.send_initial_metadata.count = 1;
        ops[0].data.send_initial_metadata.metadata = auth_md;
    }
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

static struct slot *grpc_wait(double timeout_s, enum outcome *out)
{
    gpr_timespec dl = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                   gpr_time_from_micros((int64_t)(timeout_s * 1e6) + 1, GPR_TIMESPAN));
    grpc_event ev = grpc_completion_queue_next(cq, dl, NULL);
    if (ev.type == GRPC_QUEUE_TIMEOUT)
        return NULL;
    if (ev.type != GRPC_OP_COMPLETE) {
        fprintf(stderr, "loadgen: unexpected completion queue event %d\n", (int)ev.type);
        exit(1);
    }
    struct slot *s = ev.tag;
    grpc_status_code code = ev.success ? s->status : GRPC_STATUS_UNKNOWN;
    if (code == GRPC_STATUS_OK) {
        *out = OUT_OK;
    } else if (code == GRPC_STATUS_UNAVAILABLE || code == GRPC_STATUS_RESOURCE_EXHAUSTED) {
        *out = OUT_BACKPRESSURE;
    } else {
        *out = OUT_FAILED;
        if (n_reported++ < 5) {
            char *d = ev.success ? grpc_slice_to_c_string(s->details) : NULL;
            fprintf(stderr, "loadgen: status %d: %s\n", (int)code, d ? d : "call batch failed");
            gpr_free(d);
        }
    }
    grpc_byte_buffer_destroy(s->send);
    if (s->recv)
        grpc_byte_buffer_destroy(s->recv);
    grpc_metadata_array_destroy(&s->initial_md);
    grpc_metadata_array_destroy(&s->trailing_md);
    grpc_slice_unref(s->details);
    grpc_call_unref(s->call);
    s->call = NULL;
    s->busy = false;
    return s;
}

static const struct transport grpc_transport = {grpc_start, grpc_wait};

/* ---- OTLP/HTTP ---------------------------------------------------------------------------- */

static CURLM *multi;
static struct curl_slist *http_headers;

/* Keeps the start of the body (an error's Status or text) and drops the rest. */
static size_t http_body(char *data, size_t size, size_t nmemb, void *userp)
{
    struct slot *s = userp;
    size_t n = size * nmemb, room = sizeof s->errbody - 1 - s->errlen;
    memcpy(s->errbody + s->errlen, data, n < room ? n : room);
    s->errlen += n < room ? n : room;
    return n;
}

static CURL *http_easy_new(struct slot *s)
{
    CURL *e = curl_easy_init();
    if (!e) {
        fprintf(stderr, "loadgen: curl_easy_init failed\n");
        exit(1);
    }
    curl_easy_setopt(e, CURLOPT_URL, opt.http_url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, http_headers);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "llmotlp-loadgen");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, opt.timeout_ms);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(e, CURLOPT_PRIVATE, s);
    return e;
}

static void http_start(struct slot *s)
{
    if (!s->easy)
        s->easy = http_easy_new(s);
    /* The pool buffer is the body as it is: no copy (POSTFIELDS, not COPYPOSTFIELDS). */
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->pl->len);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, (const char *)s->pl->buf);
    s->errlen = 0;
    s->retry_at = 0;
    s->busy = true;
    CURLMcode mc = curl_multi_add_handle(multi, s->easy);
    if (mc != CURLM_OK) {
        fprintf(stderr, "loadgen: curl_multi_add_handle: %s\n", curl_multi_strerror(mc));
        exit(1);
    }
}

static struct slot *http_done(enum outcome *out)
{
    int left;
    CURLMsg *m;
    while ((m = curl_multi_info_read(multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *e = m->easy_handle;
        CURLcode rc = m->data.result;
        struct slot *s = NULL;
        long code = 0;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&s);
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
        long opened = 0;
        if (curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &opened) == CURLE_OK && opened > 0)
            n_connects += (uint64_t)opened;
        curl_multi_remove_handle(multi, e); /* the connection stays in the multi's cache */
        s->busy = false;
        if (rc == CURLE_OK && code >= 200 && code < 300) {
            *out = OUT_OK;
        } else if (rc == CURLE_OK && (code == 503 || code == 429)) {
            *out = OUT_BACKPRESSURE;
        } else {
            *out = OUT_FAILED;
            if (n_reported++ < 5) {
                s->errbody[s->errlen] = '\0';
                for (size_t i = 0; i < s->errlen; i++) /* a protobuf Status: keep it printable */
                    if ((unsigned char)s->errbody[i] < 0x20 || (unsigned char)s->errbody[i] > 0x7e)
                        s->errbody[i] = '.';
                if (rc != CURLE_OK)
                    fprintf(stderr, "loadgen: %s: %s\n", opt.http_url, curl_easy_strerror(rc));
                else
                    fprintf(stderr, "loadgen: HTTP %ld: %s\n", code, s->errbody);
            }
        }
        return s;
    }
    return NULL;
}

static struct slot *http_wait(double timeout_s, enum outcome *out)
{
    struct slot *s = http_done(out);
    if (s)
        return s;
    int running;
    /* curl shortens the wait to its own next timeout (new handles, connection set-up). */
    CURLMcode mc = curl_multi_poll(multi, NULL, 0, (int)(timeout_s * 1000) + 1, NULL);
    if (mc == CURLM_OK)
        mc = curl_multi_perform(multi, &running);
    if (mc != CURLM_OK) {
        fprintf(stderr, "loadgen: curl multi: %s\n", curl_multi_strerror(mc));
        exit(1);
    }
    return http_done(out);
}

static const struct transport http_transport = {http_start, http_wait};

static void borrowed(void *p) { (void)p; } /* pool buffers are freed with the pool */

/* ---- the run ------------------------------------------------------------------------------ */

static struct payload *pool;
static unsigned next_pl;
static uint64_t stamp_seq;

/* --unique-traces: new trace IDs for pl, in place. Every span of a trace gets the same XOR, so
 * traces stay whole; two pool requests share no trace, so none collide. */
static void restamp(struct payload *pl)
{
    uint64_t stamp = ++stamp_seq * 0x9E3779B97F4A7C15ULL, d = stamp ^ pl->stamp;
    for (size_t i = 0; i < pl->tids.n; i++) {
        uint64_t x;
        memcpy(&x, pl->buf + pl->tids.off[i], 8);
        x ^= d;
        memcpy(pl->buf + pl->tids.off[i], &x, 8);
    }
    pl->stamp = stamp;
}

/* The next pool request to send: round robin; with --unique-traces, skips those still in flight
 * (their bytes are being sent) and restamps the one it returns. */
static struct payload *next_payload(struct stats *st)
{
    if (!opt.unique_traces)
        return &pool[next_pl++ % opt.pool];
    for (unsigned k = 0; k < opt.pool; k++) {
        struct payload *pl = &pool[next_pl++ % opt.pool];
        if (!pl->inflight) {
            restamp(pl);
            return pl;
        }
    }
    st->reused++; /* more slots than pool requests: this send repeats trace IDs in flight */
    return &pool[next_pl++ % opt.pool];
}

/* A slot is done with its request (answered, failed or abandoned). */
static void slot_done(struct slot *s, unsigned *inflight)
{
    s->pl->inflight--;
    s->retry_at = 0;
    --*inflight;
}

/* Latencies of answered requests, seconds; sorted once for the summary. */
static double *lat;
static size_t n_lat, cap_lat;
static bool lat_sorted;

static void lat_add(double v)
{
    if (n_lat == cap_lat) {
        size_t cap = cap_lat ? cap_lat * 2 : 4096;
        double *p = realloc(lat, cap * sizeof *p);
        if (!p) {
            fprintf(stderr, "loadgen: out of memory\n");
            exit(1);
        }
        lat = p, cap_lat = cap;
    }
    lat[n_lat++] = v;
}
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
/* Nearest-rank percentile, q in (0, 1]; 0 with no sample. */
static double lat_pct(double q)
{
    if (!n_lat)
        return 0;
    if (!lat_sorted) {
        qsort(lat, n_lat, sizeof *lat, cmp_double);
        lat_sorted = true;
    }
    size_t rank = (size_t)(q * (double)n_lat + 0.999999);
    return lat[(rank ? rank : 1) - 1];
}
static double lat_mean(void)
{
    double sum = 0;
    for (size_t i = 0; i < n_lat; i++)
        sum += lat[i];
    return n_lat ? sum / (double)n_lat : 0;
}


int main(int argc, char **argv)
{
    parse_args(argc, argv);

    /* Encode every request before any clock starts. */
    pool = calloc(opt.pool, sizeof *pool);
    uint64_t rng = opt.seed * 0x9E3779B97F4A7C15ULL | 1;
    size_t pool_bytes = 0;
    uint64_t pool_spans = 0;
    int gen_naming = gen_traffic_naming(opt.traffic);
    struct gen_model *gm = NULL;
    struct gen_batch gb;
    gen_batch_init(&gb);
    if (gen_naming >= 0) {
        struct gen_model_opts go = {.seed = opt.seed, .naming = (enum gen_naming)gen_naming,
                                    .error_ratio = 0.05, .fallback_ratio = 0.1, .agent_ratio = 0.15,
                                    .tenants = 500};
        gm = gen_model_new(&go);
    }
    for (unsigned i = 0; i < opt.pool; i++) {
        unsigned n = bench_pool_size(i, opt.pool, opt.spans_min, opt.spans_max);
        size_t len;
        uint8_t *buf;
        if (gm) { /* gen's traces average under 3 spans: n / 3 traces come near n spans */
            gen_model_batch(gm, n / 3 ? n / 3 : 1, GEN_SIG_TRACES, &gb);
            n = (unsigned)gb.stats.spans;
            len = protobuf_c_message_get_packed_size(&gb.traces->base);
            buf = malloc(len ? len : 1);
            if (buf)
                protobuf_c_message_pack(&gb.traces->base, buf);
        } else {
            buf = bench_request_build_shaped(&rng, n, bench_shape_named(opt.traffic), &len);
        }
        int64_t errs = buf ? bench_count_error_spans(buf, len) : -1;
        if (!buf || errs < 0 || (opt.unique_traces && bench_trace_id_offsets(buf, len, &pool[i].tids))) {
            fprintf(stderr, "loadgen: cannot build request %u\n", i);
            return 1;
        }
        pool[i].buf = buf;
        pool[i].spans = n;
        pool[i].error_spans = (uint64_t)errs;
        pool[i].len = len;
        pool_bytes += len;
        pool_spans += n;
    }
    gen_batch_free(&gb);
    gen_model_free(gm);

    const struct transport *tp;
    if (opt.http_url) {
        tp = &http_transport;
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(multi = curl_multi_init())) {
            fprintf(stderr, "loadgen: cannot initialise libcurl\n");
            return 1;
        }
        /* One keep-alive connection per slot, never more: no connection churn in the figures. */
        curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)opt.concurrency);
        curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)opt.concurrency);
        http_headers = curl_slist_append(NULL, "Content-Type: application/x-protobuf");
        http_headers = curl_slist_append(http_headers, "Expect:"); /* no 100-continue round trip */
        if (opt.authorization) {
            char line[4096];
            snprintf(line, sizeof line, "Authorization: %s", opt.authorization);
            http_headers = curl_slist_append(http_headers, line);
        }
    } else {
        tp = &grpc_transport;
        grpc_init();
        if (opt.authorization) {
            auth_md[0].key = grpc_slice_from_static_string("authorization");
            auth_md[0].value = grpc_slice_from_static_string(opt.authorization);
        }
        for (unsigned i = 0; i < opt.pool; i++) /* the slice borrows the pool buffer */
            pool[i].slice = grpc_slice_new(pool[i].buf, pool[i].len, borrowed);
        grpc_arg args[] = {
            {GRPC_ARG_INTEGER, GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, {.integer = -1}},
            {GRPC_ARG_STRING, GRPC_ARG_PRIMARY_USER_AGENT_STRING, {.string = "llmotlp-loadgen"}},
        };
        grpc_channel_args cargs = {sizeof args / sizeof args[0], args};
        grpc_channel_credentials *creds = grpc_insecure_credentials_create();
        channel = grpc_channel_create(opt.endpoint, creds, &cargs);
        grpc_channel_credentials_release(creds);
        cq = grpc_completion_queue_create_for_next(NULL);
    }

    struct slot *slots = calloc(opt.concurrency, sizeof *slots);
    struct stats st;
    memset(&st, 0, sizeof st);
    unsigned inflight = 0;
    double t0 = bench_now(), c0 = bench_cpu();
    double end_at = opt.duration > 0 ? t0 + opt.duration : 0;
    bool stopping = false;

    for (;;) {
        double now = bench_now();
        if (end_at && now >= end_at)
            stopping = true;
        bool more = !stopping && (!opt.requests || st.started < opt.requests);
        /* Wake for the next due request or pending retry, or at least every 100 ms for the clock. */
        double wake = now + 0.1;
        for (unsigned i = 0; more && i < opt.concurrency; i++) {
            struct slot *s = &slots[i];
            if (s->busy || s->retry_at > 0)
                continue;
            double due = opt.rate > 0 ? t0 + (double)st.started / opt.rate : now;
            if (due > now) {
                if (due < wake)
                    wake = due;
                break;
            }
            if (now - due > LATE_S)
                st.late++;
            s->pl = next_payload(&st);
            s->pl->inflight++;
            s->retries = 0;
            s->t_first = due;
            st.started++;
            inflight++;
            tp->start(s);
            more = !opt.requests || st.started < opt.requests;
        }
        for (unsigned i = 0; i < opt.concurrency; i++) {
            struct slot *s = &slots[i];
            if (!s->busy && s->retry_at > 0) {
                if (stopping) { /* refused and the run is over: never accepted, so not lost */
                    s->retry_at = 0;
                    st.abandoned++;
                    slot_done(s, &inflight);
                } else if (s->retry_at <= now) {
                    tp->start(s);
                } else if (s->retry_at < wake) {
                    wake = s->retry_at;
                }
            }
        }
        more = !stopping && (!opt.requests || st.started < opt.requests);
        if (inflight == 0 && !more)
            break;
        enum outcome out;
        struct slot *s = tp->wait(wake > now ? wake - now : 0, &out);
        if (!s)
            continue;
        struct payload *pl = s->pl;
        if (out == OUT_OK) {
            st.ok++;
            st.spans_ok += pl->spans;
            st.bytes_ok += pl->len;
            st.error_spans_ok += pl->error_spans;
            lat_add(bench_now() - s->t_first);
        } else if (out == OUT_BACKPRESSURE) {
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
        slot_done(s, &inflight);
    }
    double elapsed = bench_now() - t0, cpu = bench_cpu() - c0;

    printf("{\"endpoint\": \"%s\", \"protocol\": \"%s\", \"concurrency\": %u, \"traffic\": \"%s\", "
           "\"unique_traces\": %s, \"rate\": %.0f,\n"
           " \"spans_per_request\": [%u, %u], \"avg_request_bytes\": %.0f, \"bytes_per_span\": %.1f,\n"
           " \"requests_ok\": %" PRIu64 ", \"requests_failed\": %" PRIu64
           ", \"backpressure_retries\": %" PRIu64 ", \"requests_abandoned\": %" PRIu64 ",\n"
           " \"spans_sent\": %" PRIu64 ", \"error_spans_sent\": %" PRIu64 ", \"bytes_sent\": %" PRIu64
           ", \"elapsed_s\": %.3f, \"spans_per_s\": %.0f, \"loadgen_cpu_s\": %.3f, \"connections_opened\": %" PRIu64 ",\n"
           " \"late_starts\": %" PRIu64 ", \"reused_trace_ids\": %" PRIu64 ", \"latency_mean_ms\": %.3f, "
           "\"latency_p50_ms\": %.3f, \"latency_p90_ms\": %.3f, \"latency_p99_ms\": %.3f, \"latency_max_ms\": %.3f}\n",
           opt.http_url ? opt.http_url : opt.endpoint, opt.http_url ? "http/protobuf" : "grpc",
           opt.concurrency, opt.traffic, opt.unique_traces ? "true" : "false", opt.rate, opt.spans_min,
           opt.spans_max, (double)pool_bytes / opt.pool,
           (double)pool_bytes / (double)pool_spans, st.ok, st.failed, st.backpressure, st.abandoned,
           st.spans_ok, st.error_spans_ok, st.bytes_ok, elapsed,
           elapsed > 0 ? (double)st.spans_ok / elapsed : 0.0, cpu,
           opt.http_url ? n_connects : (uint64_t)1, st.late, st.reused, lat_mean() * 1e3,
           lat_pct(0.50) * 1e3, lat_pct(0.90) * 1e3, lat_pct(0.99) * 1e3, lat_pct(1.0) * 1e3);
    fflush(stdout);

    if (opt.http_url) {
        for (unsigned i = 0; i < opt.concurrency; i++)
            if (slots[i].easy)
                curl_easy_cleanup(slots[i].easy);
        curl_multi_cleanup(multi);
        curl_slist_free_all(http_headers);
        curl_global_cleanup();
    } else {
        grpc_channel_destroy(channel);
        grpc_completion_queue_shutdown(cq);
        while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type != GRPC_QUEUE_SHUTDOWN)
            ;
        grpc_completion_queue_destroy(cq);
        for (unsigned i = 0; i < opt.pool; i++)
            grpc_slice_unref(pool[i].slice);
        grpc_shutdown();
    }
    for (unsigned i = 0; i < opt.pool; i++) {
        free(pool[i].buf);
        free(pool[i].tids.off);
    }
    free(pool);
    free(slots);
    free(lat);
    return st.failed ? 1 : 0;
}
