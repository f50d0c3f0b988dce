/* sink.c — counting OTLP trace sink for the benchmark: answers every
 * TraceService/Export (gRPC) or POST /v1/traces (OTLP/HTTP, application/x-protobuf, with --http)
 * with OK and counts requests, spans and bytes.
 * The one idea: the sink must cost far less than what it measures, so it never decodes; it walks
 * only the three enclosing wire levels to count spans (bench_count_spans). gRPC: one thread with
 * one completion queue and many pre-posted calls. HTTP: one libmicrohttpd epoll thread.
 *
 * usage: sink [--listen 127.0.0.1:0] [--http] [--port-file F] [--stats F] [--interval-ms 1000]
 *             [--unavailable-every N]   (answer every Nth request UNAVAILABLE / HTTP 503,
 *                                        uncounted: a busy downstream, to exercise retry paths)
 *             [--errors]                (also count spans with status ERROR, walking into every
 *                                        span: how a benchmark proves a tail sampler delivered
 *                                        every failing trace; dearer, so off by default)
 * The bound port goes to --port-file (written once listening). Counts go to --stats every
 * interval and at exit (SIGINT/SIGTERM) as one JSON line, and to stdout at exit. */
#include <errno.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <unistd.h>

#include "bench/bench_common.h"

#define METHOD "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
#define PREPOSTED 64

struct call_ctx {
    bool finishing, generic;
    grpc_call *call;
    gpr_timespec deadline;
    grpc_call_details details;
    grpc_metadata_array md;
    grpc_byte_buffer *req, *resp;
    grpc_slice status_details;
    int cancelled;
};

static grpc_server *server;
static grpc_completion_queue *cq;
static void *method;
static volatile sig_atomic_t stop_requested;
/* Atomic because in HTTP mode libmicrohttpd's thread counts while the main thread reports. */
static _Atomic uint64_t n_requests, n_spans, n_bytes, n_bad, n_refused, n_calls, n_error_spans;
static long unavailable_every;
static bool count_errors;
static const char *stats_path;
static double t_start, cpu_start;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void post(bool generic)
{
    struct call_ctx *c = calloc(1, sizeof *c);
    c->generic = generic;
    grpc_metadata_array_init(&c->md);
    grpc_call_error e;
    if (generic) {
        grpc_call_details_init(&c->details);
        e = grpc_server_request_call(server, &c->call, &c->details, &c->md, cq, cq, c);
    } else {
        e = grpc_server_request_registered_call(server, method, &c->call, &c->deadline, &c->md,
                                                &c->req, cq, cq, c);
    }
    if (e != GRPC_CALL_OK) {
        fprintf(stderr, "sink: request_call failed: %d\n", (int)e);
        exit(1);
    }
}

static void ctx_free(struct call_ctx *c)
{
    if (c->call)
        grpc_call_unref(c->call);
    if (c->generic)
        grpc_call_details_destroy(&c->details);
    grpc_metadata_array_destroy(&c->md);
    if (c->req)
        grpc_byte_buffer_destroy(c->req);
    if (c->resp)
        grpc_byte_buffer_destroy(c->resp);
    grpc_slice_unref(c->status_details);
    free(c);
}

/* Spans of one request (-1 if malformed), and with --errors its ERROR spans added to the count. */
static int64_t count_spans(const uint8_t *data, size_t len)
{
    int64_t n = bench_count_spans(data, len);
    if (n >= 0 && count_errors) {
        int64_t e = bench_count_error_spans(data, len);
        if (e < 0)
            return -1;
        n_error_spans += (uint64_t)e;
    }
    return n;
}

static int64_t count_payload(grpc_byte_buffer *bb, size_t *len)
{
    grpc_byte_buffer_reader r;
    *len = 0;
    if (!bb || !grpc_byte_buffer_reader_init(&r, bb))
        return bb ? -1 : 0;
    grpc_slice s = grpc_byte_buffer_reader_readall(&r);
    grpc_byte_buffer_reader_destroy(&r);
    *len = GRPC_SLICE_LENGTH(s);
    int64_t n = count_spans(GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s));
    grpc_slice_unref(s);
    return n;
}

static void handle(struct call_ctx *c)
{
    grpc_status_code code = GRPC_STATUS_OK;
    const char *msg = NULL;
    if (c->generic) {
        code = GRPC_STATUS_UNIMPLEMENTED;
        msg = "sink serves only TraceService/Export";
    } else if (unavailable_every && ++n_calls % (uint64_t)unavailable_every == 0) {
        n_refused++;
        code = GRPC_STATUS_UNAVAILABLE;
        msg = "sink busy (--unavailable-every)";
    } else {
        size_t len;
        int64_t n = count_payload(c->req, &len);
        n_requests++;
        n_bytes += len;
        if (n < 0) {
            n_bad++;
            code = GRPC_STATUS_INVALID_ARGUMENT;
            msg = "malformed ExportTraceServiceRequest";
        } else {
            n_spans += (uint64_t)n;
        }
    }
    c->status_details = msg ? grpc_slice_from_static_string(msg) : grpc_empty_slice();
    grpc_op ops[4];
    memset(ops, 0, sizeof ops);
    size_t k = 0;
    ops[k++].op = GRPC_OP_SEND_INITIAL_METADATA;
    if (code == GRPC_STATUS_OK) {
        c->resp = grpc_raw_byte_buffer_create(NULL, 0); /* empty response packs to 0 bytes */
        ops[k].op = GRPC_OP_SEND_MESSAGE;
        ops[k++].data.send_message.send_message = c->resp;
    }
    ops[k].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[k].data.send_status_from_server.status = code;
    ops[k++].data.send_status_from_server.status_details = msg ? &c->status_details : NULL;
    ops[k].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[k++].data.recv_close_on_server.cancelled = &c->cancelled;
    c->finishing = true;
    grpc_call_error e = grpc_call_start_batch(c->call, ops, k, c, NULL);
    if (e != GRPC_CALL_OK) {
        fprintf(stderr, "sink: start_batch failed: %d\n", (int)e);
        exit(1);
    }
}

static void write_stats(FILE *also)
{
    char line[512];
    double el = bench_now() - t_start;
    snprintf(line, sizeof line,
             "{\"requests\": %" PRIu64 ", \"spans\": %" PRIu64 ", \"bytes\": %" PRIu64
             ", \"bad\": %" PRIu64 ", \"refused\": %" PRIu64 ", \"error_spans\": %" PRIu64
             ", \"uptime_s\": %.3f, \"sink_cpu_s\": %.3f}\n",
             (uint64_t)n_requests, (uint64_t)n_spans, (uint64_t)n_bytes, (uint64_t)n_bad,
             (uint64_t)n_refused, (uint64_t)n_error_spans, el, bench_cpu() - cpu_start);
    if (stats_path) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", stats_path);
        FILE *f = fopen(tmp, "w");
        if (f) {
            fputs(line, f);
            if (fclose(f) == 0)
                rename(tmp, stats_path);
        }
    }
    if (also) {
        fputs(line, also);
        fflush(also);
    }
}

/* ---- OTLP/HTTP -------------------------------------------------------------------------- */

struct http_body {
    uint8_t *data;
    size_t len, cap;
    bool refuse; /* decided at the headers: method, path or content type is wrong */
};

static struct MHD_Response *resp_ok, *resp_busy, *resp_bad, *resp_404, *resp_405, *resp_415;

static struct MHD_Response *http_response(int with_proto_type, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (r && with_proto_type)
        MHD_add_response_header(r, "Content-Type", "application/x-protobuf");
    else if (r)
        MHD_add_response_header(r, "Content-Type", "text/plain");
    if (!r) {
        fprintf(stderr, "sink: cannot create an HTTP response\n");
        exit(1);
    }
    return r;
}

static enum MHD_Result http_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                    const char *method, const char *version, const char *upload_data,
                                    size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)version;
    struct http_body *b = *con_cls;
    if (!b) { /* headers only: say no early, or make room for the whole body at once */
        b = calloc(1, sizeof *b);
        if (!b)
            return MHD_NO;
        *con_cls = b;
        const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        struct MHD_Response *no = NULL;
        unsigned status = 0;
        if (strcmp(method, "POST") != 0)
            no = resp_405, status = MHD_HTTP_METHOD_NOT_ALLOWED;
        else if (strcmp(url, "/v1/traces") != 0)
            no = resp_404, status = MHD_HTTP_NOT_FOUND;
        else if (!ct || strncmp(ct, "application/x-protobuf", 22) != 0)
            no = resp_415, status = MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
        if (no) {
            b->refuse = true;
            return MHD_queue_response(conn, status, no);
        }
        if (cl) {
            b->cap = (size_t)strtoull(cl, NULL, 10);
            if (b->cap > (64u << 20))
                return MHD_NO;
            b->data = malloc(b->cap ? b->cap : 1);
            if (!b->data)
                return MHD_NO;
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!b->refuse) {
            size_t n = *upload_data_size;
            if (b->len + n > b->cap) {
                size_t cap = b->cap ? b->cap * 2 : 65536;
                while (cap < b->len + n)
                    cap *= 2;
                uint8_t *d = realloc(b->data, cap);
                if (!d)
                    return MHD_NO;
                b->data = d;
                b->cap = cap;
            }
            memcpy(b->data + b->len, upload_data, n);
            b->len += n;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (b->refuse)
        return MHD_YES;
    if (unavailable_every && ++n_calls % (uint64_t)unavailable_every == 0) {
        n_refused++;
        return MHD_queue_response(conn, MHD_HTTP_SERVICE_UNAVAILABLE, resp_busy);
    }
    int64_t n = count_spans(b->data, b->len);
    n_requests++;
    n_bytes += b->len;
    if (n < 0) {
        n_bad++;
        return MHD_queue_response(conn, MHD_HTTP_BAD_REQUEST, resp_bad);
    }
    n_spans += (uint64_t)n;
    return MHD_queue_response(conn, MHD_HTTP_OK, resp_ok); /* empty response packs to 0 bytes */
}

static void http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                           enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct http_body *b = *con_cls;
    if (b) {
        free(b->data);
        free(b);
        *con_cls = NULL;
    }
}

/* Serves until SIGINT/SIGTERM; returns the exit status. */
static int http_main(const char *listen, const char *port_file, double interval)
{
    const char *colon = strrchr(listen, ':');
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    char host[64];
    if (!colon || (size_t)(colon - listen) >= sizeof host) {
        fprintf(stderr, "sink: --listen wants IPv4:PORT, got %s\n", listen);
        return 2;
    }
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    sin.sin_port = htons((uint16_t)bench_atol("--listen port", colon + 1, 0, 65535));
    if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
        fprintf(stderr, "sink: --listen wants IPv4:PORT, got %s\n", listen);
        return 2;
    }
    resp_ok = http_response(1, "");
    resp_busy = http_response(0, "sink busy (--unavailable-every)\n");
    resp_bad = http_response(0, "malformed ExportTraceServiceRequest\n");
    resp_404 = http_response(0, "sink serves only /v1/traces\n");
    resp_405 = http_response(0, "POST only\n");
    resp_415 = http_response(0, "application/x-protobuf only\n");
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
        http_handler, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
        MHD_OPTION_NOTIFY_COMPLETED, http_completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)60, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024), MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "sink: cannot listen on %s\n", listen);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    int port = info ? (int)info->port : 0;
    t_start = bench_now();
    cpu_start = bench_cpu();
    write_stats(NULL);
    if (port_file) {
        FILE *f = fopen(port_file, "w");
        if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0) {
            fprintf(stderr, "sink: cannot write %s: %s\n", port_file, strerror(errno));
            return 1;
        }
    }
    fprintf(stderr, "sink: listening on port %d (OTLP/HTTP)\n", port);
    while (!stop_requested) {
        struct timespec ts = {(time_t)interval, (long)((interval - (double)(time_t)interval) * 1e9)};
        nanosleep(&ts, NULL); /* a signal cuts it short */
        write_stats(NULL);
    }
    MHD_stop_daemon(d); /* waits for the request being handled, if any */
    write_stats(stdout);
    MHD_destroy_response(resp_ok);
    MHD_destroy_response(resp_busy);
    MHD_destroy_response(resp_bad);
    MHD_destroy_response(resp_404);
    MHD_destroy_response(resp_405);
    MHD_destroy_response(resp_415);
    return 0;
}

/* ---- OTLP/gRPC and main ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    const char *listen = "127.0.0.1:0", *port_file = NULL;
    double interval = 1.0;
    bool http = false;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = bench_opt(argc, argv, &i, "--listen")))
            listen = v;
        else if (strcmp(argv[i], "--http") == 0)
            http = true;
        else if (strcmp(argv[i], "--errors") == 0)
            count_errors = true;
        else if ((v = bench_opt(argc, argv, &i, "--port-file")))
            port_file = v;
        else if ((v = bench_opt(argc, argv, &i, "--stats")))
            stats_path = v;
        else if ((v = bench_opt(argc, argv, &i, "--interval-ms")))
            interval = (double)bench_atol("--interval-ms", v, 10, 60000) / 1000.0;
        else if ((v = bench_opt(argc, argv, &i, "--unavailable-every")))
            unavailable_every = bench_atol("--unavailable-every", v, 1, 1000000000);
        else {
            fprintf(stderr, "usage: sink [--listen HOST:PORT] [--http] [--port-file F] [--stats F] [--interval-ms MS] "
                            "[--unavailable-every N] [--errors]\n");
            return 2;
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (http)
        return http_main(listen, port_file, interval);

    grpc_init();
    grpc_arg args[] = {{GRPC_ARG_INTEGER, GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, {.integer = 64 << 20}}};
    grpc_channel_args cargs = {1, args};
    server = grpc_server_create(&cargs, NULL);
    method = grpc_server_register_method(server, METHOD, NULL, GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0);
    cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(server, cq, NULL);
    grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
    int port = grpc_server_add_http2_port(server, listen, creds);
    grpc_server_credentials_release(creds);
    if (port == 0) {
        fprintf(stderr, "sink: cannot listen on %s\n", listen);
        return 1;
    }
    grpc_server_start(server);
    for (int i = 0; i < PREPOSTED; i++)
        post(false);
    post(true);
    t_start = bench_now();
    cpu_start = bench_cpu();
    write_stats(NULL);
    if (port_file) {
        FILE *f = fopen(port_file, "w");
        if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0) {
            fprintf(stderr, "sink: cannot write %s: %s\n", port_file, strerror(errno));
            return 1;
        }
    }
    fprintf(stderr, "sink: listening on port %d\n", port);

    double next_stats = bench_now() + interval;
    unsigned inflight = 0;
    while (!stop_requested) {
        grpc_event ev = grpc_completion_queue_next(
            cq, gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis((int64_t)(interval * 200), GPR_TIMESPAN)), NULL);
        if (bench_now() >= next_stats) {
            write_stats(NULL);
            next_stats = bench_now() + interval;
        }
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        struct call_ctx *c = ev.tag;
        if (c->finishing) {
            ctx_free(c);
            inflight--;
        } else if (!ev.success) {
            ctx_free(c);
        } else {
            post(c->generic);
            inflight++;
            handle(c);
        }
    }

    /* Orderly stop: no new calls, finish the ones in flight, then drain the queue. */
    grpc_completion_queue *scq = grpc_completion_queue_create_for_pluck(NULL);
    static int shutdown_tag;
    grpc_server_shutdown_and_notify(server, scq, &shutdown_tag);
    grpc_server_cancel_all_calls(server);
    bool shut = false;
    while (!shut || inflight > 0) {
        grpc_event ev = grpc_completion_queue_next(
            cq, gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(100, GPR_TIMESPAN)), NULL);
        if (ev.type == GRPC_OP_COMPLETE) {
            struct call_ctx *c = ev.tag;
            if (c->finishing)
                inflight--;
            if (c->finishing || !ev.success) {
                ctx_free(c);
            } else {
                inflight++;
                handle(c); /* accepted before shutdown: answer it */
            }
            continue;
        }
        if (!shut)
            shut = grpc_completion_queue_pluck(scq, &shutdown_tag, gpr_time_0(GPR_CLOCK_MONOTONIC), NULL)
                       .type == GRPC_OP_COMPLETE;
    }
    write_stats(stdout);
    grpc_server_destroy(server);
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type != GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(cq);
    grpc_completion_queue_shutdown(scq);
    grpc_completion_queue_destroy(scq);
    grpc_shutdown();
    return 0;
}
