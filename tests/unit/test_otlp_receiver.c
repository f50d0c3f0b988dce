/* test_otlp_receiver.c — the otlp receiver over real gRPC: a receiver built through its factory
 * listens on 127.0.0.1:0, a gRPC core client in this file calls it, and a recording consumer
 * stands in for the pipeline (and can be told to answer RETRY, REJECT or to reject some items).
 *
 * The one idea: everything is checked end to end through the wire (status codes, trailers and
 * response messages as a client decodes them), never by peeking into the receiver. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/compression.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/status.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/log.h"
#include "core/telemetry.h"
#include "google/rpc/status.pb-c.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "receivers/otlp/otlp_receiver.h"
#include "tests/unit/testutil.h"

extern const struct component_factory otlp_receiver_factory;

#define LABELS "receiver=\"otlp\",transport=\"grpc\""

/* ---- request builders ------------------------------------------------------------------------- */

/* Traces with `n` spans whose names are `name_len` bytes of 'x'; trace IDs are `tid_len` bytes
 * (16 is valid). */
static uint8_t *make_traces(size_t n, size_t tid_len, size_t name_len, size_t *len)
{
    char *name = malloc(name_len + 1);
    assert_non_null(name);
    memset(name, 'x', name_len);
    name[name_len] = '\0';
    uint8_t *out = tu_make_traces(n, tid_len, name, len);
    free(name);
    return out;
}

/* ---- receiver fixture ------------------------------------------------------------------------- */

struct fx {
    struct otlp_receiver_config cfg;
    struct telemetry *tel;
    struct tu_rec rec;
    struct component_env env;
    void *rx;
    int port;
    grpc_channel *ch;
};

static int bind_yaml(const char *yaml, struct otlp_receiver_config *cfg, struct error *err)
{
    memset(cfg, 0, sizeof *cfg);
    struct cnode *root = config_parse_string(yaml, "test.yaml", err);
    if (!root)
        return -1;
    int rc = config_bind(otlp_receiver_factory.fields, root, cfg, err);
    cnode_free(root);
    if (rc == 0)
        rc = otlp_receiver_factory.validate(cfg, err);
    return rc;
}

static grpc_channel *channel_to(int port, bool gzip)
{
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    grpc_arg a = {.type = GRPC_ARG_INTEGER, .key = GRPC_COMPRESSION_CHANNEL_DEFAULT_ALGORITHM,
                  .value.integer = GRPC_COMPRESS_GZIP};
    grpc_channel_args args = {.num_args = 1, .args = &a};
    grpc_channel_credentials *cr = grpc_insecure_credentials_create();
    grpc_channel *ch = grpc_channel_create(target, cr, gzip ? &args : NULL);
    grpc_channel_credentials_release(cr);
    return ch;
}

/* A channel whose calls are compressed with `algo` (gzip or deflate). */
static grpc_channel *channel_with_compression(int port, grpc_compression_algorithm algo)
{
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    grpc_arg a = {.type = GRPC_ARG_INTEGER, .key = GRPC_COMPRESSION_CHANNEL_DEFAULT_ALGORITHM,
                  .value.integer = (int)algo};
    grpc_channel_args args = {.num_args = 1, .args = &a};
    grpc_channel_credentials *cr = grpc_insecure_credentials_create();
    grpc_channel *ch = grpc_channel_create(target, cr, &args);
    grpc_channel_credentials_release(cr);
    return ch;
}

/* Starts a receiver from YAML with the recording consumer on the signals in `signals`. */
static struct fx *fx_start(const char *yaml, unsigned signals)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    struct error err = {0};
    if (bind_yaml(yaml, &f->cfg, &err) != 0)
        fail_msg("config: %s", err.msg);
    f->tel = telemetry_new();
    tu_rec_init(&f->rec);
    f->env.id = "otlp";
    f->env.log_name = "receiver/otlp";
    f->env.telemetry = f->tel;
    for (int s = 0; s < SIGNAL_COUNT; s++)
        f->env.next[s] = (signals & (1u << s)) ? &f->rec.base : NULL;
    f->rx = otlp_receiver_factory.create(&f->cfg, &f->env, &err);
    assert_non_null(f->rx);
    if (otlp_receiver_factory.start(f->rx, &err) != 0)
        fail_msg("start: %s", err.msg);
    f->port = otlp_receiver_grpc_port(f->rx);
    assert_true(f->port > 0);
    f->ch = channel_to(f->port, false);
    return f;
}

static void fx_stop(struct fx *f)
{
    grpc_channel_destroy(f->ch);
    otlp_receiver_factory.shutdown(f->rx, clock_now_ns() + 5000000000LL);
    otlp_receiver_factory.destroy(f->rx);
    config_free_bound(otlp_receiver_factory.fields, &f->cfg);
    telemetry_free(f->tel);
    tu_rec_fini(&f->rec);
    free(f);
}

static const char *const LOCAL_YAML = "protocols:\n  grpc:\n    endpoint: 127.0.0.1:0\n";
static const char *const LOCAL_YAML_MIB1 =
    "protocols:\n  grpc:\n    endpoint: 127.0.0.1:0\n    max_recv_msg_size_mib: 1\n";
#define ALL_SIGNALS 7u

/* ---- gRPC client ------------------------------------------------------------------------------ */

struct rpc {
    grpc_call *call;
    grpc_metadata_array init_md, trail_md;
    grpc_byte_buffer *send, *recv;
    grpc_status_code status;
    grpc_slice details;
    /* results, owned */
    char msg[512];
    uint8_t *resp;
    size_t resp_len;
    bool has_resp;
    uint8_t *status_bin;
    size_t status_bin_len;
};

static void rpc_start(struct rpc *r, grpc_channel *ch, grpc_completion_queue *cq, const char *method,
                      const uint8_t *data, size_t len)
{
    memset(r, 0, sizeof *r);
    gpr_timespec dl = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_seconds(30, GPR_TIMESPAN));
    r->call = grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq,
                                       grpc_slice_from_static_string(method), NULL, dl, NULL);
    assert_non_null(r->call);
    grpc_metadata_array_init(&r->init_md);
    grpc_metadata_array_init(&r->trail_md);
    grpc_slice s = grpc_slice_from_copied_buffer((const char *)data, len);
    r->send = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = r->send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &r->init_md;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &r->recv;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.status = &r->status;
    ops[5].data.recv_status_on_client.status_details = &r->details;
    ops[5].data.recv_status_on_client.trailing_metadata = &r->trail_md;
    assert_int_equal(grpc_call_start_batch(r->call, ops, 6, r, NULL), GRPC_CALL_OK);
}

/* After the call's tag came back: keeps the results, frees the gRPC objects. */
static void rpc_end(struct rpc *r)
{
    snprintf(r->msg, sizeof r->msg, "%.*s", (int)GRPC_SLICE_LENGTH(r->details),
             (const char *)GRPC_SLICE_START_PTR(r->details));
    grpc_slice_unref(r->details);
    if (r->recv) {
        grpc_byte_buffer_reader rd;
        assert_true(grpc_byte_buffer_reader_init(&rd, r->recv));
        grpc_slice all = grpc_byte_buffer_reader_readall(&rd);
        r->resp_len = GRPC_SLICE_LENGTH(all);
        r->resp = malloc(r->resp_len + 1);
        memcpy(r->resp, GRPC_SLICE_START_PTR(all), r->resp_len);
        r->has_resp = true;
        grpc_slice_unref(all);
        grpc_byte_buffer_reader_destroy(&rd);
        grpc_byte_buffer_destroy(r->recv);
    }
    for (size_t i = 0; i < r->trail_md.count; i++) {
        grpc_metadata *m = &r->trail_md.metadata[i];
        if (GRPC_SLICE_LENGTH(m->key) == 23 &&
            memcmp(GRPC_SLICE_START_PTR(m->key), "grpc-status-details-bin", 23) == 0) {
            r->status_bin_len = GRPC_SLICE_LENGTH(m->value);
            r->status_bin = malloc(r->status_bin_len + 1);
            memcpy(r->status_bin, GRPC_SLICE_START_PTR(m->value), r->status_bin_len);
        }
    }
    grpc_metadata_array_destroy(&r->init_md);
    grpc_metadata_array_destroy(&r->trail_md);
    grpc_byte_buffer_destroy(r->send);
    grpc_call_unref(r->call);
    r->call = NULL;
}

static void rpc_clear(struct rpc *r)
{
    free(r->resp);
    free(r->status_bin);
    r->resp = r->status_bin = NULL;
}

static void rpc_wait(struct rpc *r, grpc_completion_queue *cq)
{
    grpc_event ev = grpc_completion_queue_pluck(cq, r, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    assert_int_equal(ev.type, GRPC_OP_COMPLETE);
    assert_true(ev.success);
    rpc_end(r);
}

static void rpc_sync(grpc_channel *ch, const char *method, const uint8_t *data, size_t len, struct rpc *r)
{
    grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
    rpc_start(r, ch, cq, method, data, len);
    rpc_wait(r, cq);
    grpc_completion_queue_shutdown(cq);
    grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    grpc_completion_queue_destroy(cq);
}

static const char *M_TRACES = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
static const char *M_METRICS = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
static const char *M_LOGS = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

/* ---- tests ------------------------------------------------------------------------------------ */

static void test_three_signals_delivered_intact(void **state)
{
    (void)state;
    struct fx *f = fx_start(LOCAL_YAML, ALL_SIGNALS);
    struct {
        const char *method;
        enum signal sig;
        uint8_t *data;
        size_t len;
        uint64_t items;
        const char *counter;
    } cases[3];
    cases[0].data = make_traces(5, 16, 10, &cases[0].len);
    cases[0].method = M_TRACES, cases[0].sig = SIGNAL_TRACES, cases[0].items = 5;
    cases[0].counter = "otelcol_receiver_accepted_spans";
    cases[1].data = tu_make_metrics(7, &cases[1].len);
    cases[1].method = M_METRICS, cases[1].sig = SIGNAL_METRICS, cases[1].items = 7;
    cases[1].counter = "otelcol_receiver_accepted_metric_points";
    cases[2].data = tu_make_logs(3, &cases[2].len);
    cases[2].method = M_LOGS, cases[2].sig = SIGNAL_LOGS, cases[2].items = 3;
    cases[2].counter = "otelcol_receiver_accepted_log_records";

    for (int i = 0; i < 3; i++) {
        struct rpc r;
        uint64_t before = f->rec.items;
        rpc_sync(f->ch, cases[i].method, cases[i].data, cases[i].len, &r);
        assert_int_equal(r.status, GRPC_STATUS_OK);
        assert_true(r.has_resp);
        assert_int_equal(r.resp_len, 0); /* full success: partial_success unset */
        assert_int_equal(f->rec.calls, (size_t)i + 1);
        assert_int_equal(f->rec.last_signal, cases[i].sig);
        assert_int_equal(f->rec.items - before, cases[i].items);
        assert_int_equal(f->rec.last_len, cases[i].len);
        assert_memory_equal(f->rec.last, cases[i].data, cases[i].len);
        assert_int_equal(telemetry_value(f->tel, cases[i].counter, LABELS), (int64_t)cases[i].items);
        rpc_clear(&r);
        free(cases[i].data);
    }
    assert_int_equal(f->rec.bad, 0);
    fx_stop(f);
}

static void test_gzip_request(void **state)
{
    (void)state;
    struct fx *f = fx_start(LOCAL_YAML, ALL_SIGNALS);
    grpc_channel *gz = channel_to(f->port, true);
    size_t len;
    uint8_t *req = make_traces(200, 16, 300, &len); /* repetitive: compresses well */
    struct rpc r;
    rpc_sync(gz, M_TRACES, req, len, &r);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    assert_int_equal(f->rec.calls, 1);
    assert_int_equal(f->rec.items, 200);
    assert_int_equal(f->rec.last_len, len);
    assert_memory_equal(f->rec.last, req, len);
    rpc_clear(&r);
    free(req);
    grpc_channel_destroy(gz);
    fx_stop(f);
}

static void test_malformed_then_valid(void **state)
{
    (void)state;
    struct fx *f = fx_start(LOCAL_YAML, ALL_SIGNALS);
    static const uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02};
    struct rpc r;
    rpc_sync(f->ch, M_TRACES, junk, sizeof junk, &r);
    assert_int_equal(r.status, GRPC_STATUS_INVALID_ARGUMENT);
    assert_true(strlen(r.msg) > 0);
    assert_int_equal(f->rec.calls, 0);
    assert_int_equal(telemetry_value(f->tel, "llmotlp_receiver_malformed_requests", LABELS), 1);
    rpc_clear(&r);

    size_t len;
    uint8_t *req = make_traces(2, 16, 4, &len);
    rpc_sync(f->ch, M_TRACES, req, len, &r);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    assert_int_equal(f->rec.calls, 1);
    rpc_clear(&r);
    free(req);
    fx_stop(f);
}

static void test_short_trace_id(void **state)
{
    (void)state;
    struct fx *f = fx_start(LOCAL_YAML, ALL_SIGNALS);
    size_t len;
    uint8_t *req = make_traces(3, 15, 4, &len);
    struct rpc r;
    rpc_sync(f->ch, M_TRACES, req, len, &r);
    assert_int_equal(r.status, GRPC_STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(r.msg, "trace_id"));
    assert_int_equal(f->rec.calls, 0);
    rpc_clear(&r);
    free(req);
    fx_stop(f);
}

/* A log body nested 3000 AnyValue→ArrayValue levels deep: protobuf-c would overflow the stack
 * unpacking it; the receiver must refuse it and keep serving. */
static void test_nesting_bomb(void **state)
{
    (void)state;
    struct fx *f = fx_start(LOCAL_YAML, ALL_SIGNALS);
    enum { DEPTH = 3000 };
    Opentelemetry__Proto__Common__V1__AnyValue *av = calloc(DEPTH + 1, sizeof *av);
    Opentelemetry__Proto__Common__V1__ArrayValue *arr = calloc(DEPTH, sizeof *arr);
    Opentelemetry__Proto__Common__V1__AnyValue **slots = calloc(DEPTH, sizeof *slots);
    for (int i = 0; i <= DEPTH; i++)
        opentelemetry__proto__common__v1__any_value__init(&av[i]);
    for (int i = 0; i < DEPTH; i++) {
        opentelemetry__proto__common__v1__array_value__init(&arr[i]);
        slots[i] = &av[i + 1];
        arr[i].n_values = 1;
        arr[i].values = &slots[i];
        av[i].value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE;
        av[i].array_value = &arr[i];
    }
    Opentelemetry__Proto__Logs__V1__LogRecord lr = OPENTELEMETRY__PROTO__LOGS__V1__LOG_RECORD__INIT;
    lr.body = &av[0];
    Opentelemetry__Proto__Logs__V1__LogRecord *lrp = &lr;
    Opentelemetry__Proto__Logs__V1__ScopeLogs sl = OPENTELEMETRY__PROTO__LOGS__V1__SCOPE_LOGS__INIT;
    sl.n_log_records = 1;
    sl.log_records = &lrp;
    Opentelemetry__Proto__Logs__V1__ScopeLogs *slp = &sl;
    Opentelemetry__Proto__Logs__V1__ResourceLogs rl = OPENTELEMETRY__PROTO__LOGS__V1__RESOURCE_LOGS__INIT;
    rl.n_scope_logs = 1;
    rl.scope_logs = &slp;
    Opentelemetry__Proto__Logs__V1__ResourceLogs *rlp = &rl;
    Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest req =
        OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_REQUEST__INIT;
    req.n_resource_logs = 1;
    req.resource_logs = &rlp;
    size_t len;
    uint8_t *bomb = tu_pack(&req.base, &len);
    free(av);
    free(arr);
    free(slots);

    struct rpc r;
    rpc_sync(f->ch, M_LOGS, bomb, len, &r);
    assert_int_equal(r.status, GRPC_STATUS_INVALID_ARGUMENT);
    rpc_clear(&r);
    free(bomb);
    assert_int_equal(f->rec.calls, 0);

    uint8_t *ok = tu_make_logs(1, &len);
    rpc_sync(f->ch, M_LOGS, ok, len, &r);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    assert_int_equal(f->rec.calls, 1);
    rpc_clear(&r);
    free(ok);
    fx_stop(f);
}

static void test_oversized_request(void **state)
{
    (void)state;
    struct fx *f = fx_start("protocols:\n  grpc:\n    endpoint: 127.0.0.1:0\n    max_recv_msg_size_mib: 1\n",
                            ALL_SIGNALS);
    size_t len;
    uint8_t *req = make_traces(1, 16, (3u << 20) / 2, &len); /* 1.5 MiB */
    struct rpc r;
    rpc_sync(f->ch, M_TRACES, req, len, &r);
    assert_int_equal(r.status, GRPC_STATUS_RESOURCE_EXHAUSTED);
    rpc_clear(&r);

    /* The limit applies after decompression: a gzip request small on the wire is refused too. */
    grpc_channel *gz = channel_to(f->port, true);
    rpc_sync(gz, M_TRACES, req, len, &r);
    assert_int_equal(r.status, GRPC_STATUS_RESOURCE_EXHAUSTED);
    rpc_clear(&r);
    grpc_channel_destroy(gz);
    assert_int_equal(f->rec.calls, 0);
    free(req);

    /* Just under the limit passes. */
    req = make_traces(1, 16, (1u << 20) - 200, &len);
    rpc_sync(f->ch, M_TRACES, req, len, &r);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    assert_int_equal(f->rec.calls, 1);
    rpc_clear(&r);
    free(req);
    fx_stop(f);
}

static void test_empty_request(void **state)
{
    (void)state;
    struct fx *f = fx_start(LOCAL_YAML, ALL_SIGNALS);
    struct rpc r;
    rpc_sync(f->ch, M_TRACES, (const uint8_t *)"", 0, &r);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    assert_true(r.has_resp);
    assert_int_equal(r.resp_len, 0);
    rpc_clear(&r);

    size_t len;
    uint8_t *req = make_traces(0, 16, 1, &len); /* a resource and scope with no spans */
    assert_true(len > 0);
    rpc_sync(f->ch, M_TRACES, req, len, &r);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    rpc_clear(&r);
    free(req);
    assert_int_equal(f->rec.calls, 0);
    fx_stop(f);
}

static void test_retry_gives_unavailable_with_retry_info(void **state)
{
    (void)state;
    struct fx *f = fx_start(LOCAL_YAML, ALL_SIGNALS);
    f->rec.answer = CONSUME_RETRY;
    size_t len;
    uint8_t *req = make_traces(4, 16, 4, &len);
    struct rpc r;
    rpc_sync(f->ch, M_TRACES, req, len, &r);
    assert_int_equal(r.status, GRPC_STATUS_UNAVAILABLE);
    assert_string_equal(r.msg, "downstream is full; retry later");
    assert_non_null(r.status_bin);

    Google__Rpc__Status *st = google__rpc__status__unpack(NULL, r.status_bin_len, r.status_bin);
    assert_non_null(st);
    assert_int_equal(st->code, GRPC_STATUS_UNAVAILABLE);
    assert_string_equal(st->message, "downstream is full; retry later");
    assert_int_equal(st->n_details, 1);
    assert_string_equal(st->details[0]->type_url, "type.googleapis.com/google.rpc.RetryInfo");
    Google__Rpc__RetryInfo *ri =
        google__rpc__retry_info__unpack(NULL, st->details[0]->value.len, st->details[0]->value.data);
    assert_non_null(ri);
    assert_non_null(ri->retry_delay);
    assert_int_equal(ri->retry_delay->seconds, 1);
    assert_int_equal(ri->retry_delay->nanos, 0);
    google__rpc__retry_info__free_unpacked(ri, NULL);
    google__rpc__status__free_unpacked(st, NULL);

    assert_int_equal(telemetry_value(f->tel, "otelcol_receiver_refused_spans", LABELS), 4);
    assert_int_equal(telemetry_value(f->tel, "otelcol_receiver_accepted_spans", LABELS), 0);
    rpc_clear(&r);
    free(req);
    fx_stop(f);
}

static void test_reject_gives_invalid_argument(void **state)
{
    (void)state;
    struct fx *f = fx_start(LOCAL_YAML, ALL_SIGNALS);
    f->rec.answer = CONSUME_REJECT;
    size_t len;
    uint8_t *req = tu_make_logs(2, &len);
    struct rpc r;
    rpc_sync(f->ch, M_LOGS, req, len, &r);
    assert_int_equal(r.status, GRPC_STATUS_INVALID_ARGUMENT);
    assert_true(strncmp(r.msg, "rejected by pipeline: ", 22) == 0);
    assert_null(r.status_bin); /* not retryable: no RetryInfo */
    assert_int_equal(telemetry_value(f->tel, "otelcol_receiver_refused_log_records", LABELS), 2);
    rpc_clear(&r);

    f->rec.reject_why = "log body too large";
    rpc_sync(f->ch, M_LOGS, req, len, &r);
    assert_int_equal(r.status, GRPC_STATUS_INVALID_ARGUMENT);
    assert_string_equal(r.msg, "rejected by pipeline: log body too large");
    assert_int_equal(telemetry_value(f->tel, "otelcol_receiver_refused_log_records", LABELS), 4);
    rpc_clear(&r);
    free(req);
    fx_stop(f);
}

static void test_partial_success(void **state)
{
    (void)state;
    struct fx *f = fx_start(LOCAL_YAML, ALL_SIGNALS);
    f->rec.reject_n = 2;
    f->rec.reject_why = "2 spans had no model name";
    size_t len;
    uint8_t *req = make_traces(5, 16, 4, &len);
    struct rpc r;
    rpc_sync(f->ch, M_TRACES, req, len, &r);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    assert_true(r.resp_len > 0);
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse *resp =
        opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(NULL, r.resp_len,
                                                                                          r.resp);
    assert_non_null(resp);
    assert_non_null(resp->partial_success);
    assert_int_equal(resp->partial_success->rejected_spans, 2);
    assert_string_equal(resp->partial_success->error_message, "2 spans had no model name");
    opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(resp, NULL);
    assert_int_equal(telemetry_value(f->tel, "otelcol_receiver_accepted_spans", LABELS), 3);
    assert_int_equal(telemetry_value(f->tel, "otelcol_receiver_refused_spans", LABELS), 2);
    rpc_clear(&r);
    free(req);

    /* Metrics carry the count in rejected_data_points. */
    f->rec.reject_n = 1;
    req = tu_make_metrics(4, &len);
    rpc_sync(f->ch, M_METRICS, req, len, &r);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse *mresp =
        opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__unpack(
            NULL, r.resp_len, r.resp);
    assert_non_null(mresp);
    assert_non_null(mresp->partial_success);
    assert_int_equal(mresp->partial_success->rejected_data_points, 1);
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__free_unpacked(mresp,
                                                                                                 NULL);
    rpc_clear(&r);
    free(req);

    /* rejected 0 with a message: the spec's warning form, still sent */
    f->rec.reject_n = 0;
    f->rec.reject_why = "attribute gen_ai.system is deprecated";
    req = tu_make_logs(2, &len);
    rpc_sync(f->ch, M_LOGS, req, len, &r);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse *lresp =
        opentelemetry__proto__collector__logs__v1__export_logs_service_response__unpack(NULL, r.resp_len,
                                                                                        r.resp);
    assert_non_null(lresp);
    assert_non_null(lresp->partial_success);
    assert_int_equal(lresp->partial_success->rejected_log_records, 0);
    assert_string_equal(lresp->partial_success->error_message, "attribute gen_ai.system is deprecated");
    opentelemetry__proto__collector__logs__v1__export_logs_service_response__free_unpacked(lresp, NULL);
    assert_int_equal(telemetry_value(f->tel, "otelcol_receiver_accepted_log_records", LABELS), 2);
    rpc_clear(&r);
    free(req);
    fx_stop(f);
}

static void test_unknown_method_and_missing_pipeline(void **state)
{
    (void)state;
    /* traces and metrics have pipelines, logs has none */
    struct fx *f = fx_start(LOCAL_YAML, (1u << SIGNAL_TRACES) | (1u << SIGNAL_METRICS));
    struct rpc r;
    rpc_sync(f->ch, "/foo.Bar/Baz", (const uint8_t *)"x", 1, &r);
    assert_int_equal(r.status, GRPC_STATUS_UNIMPLEMENTED); /* not DEADLINE_EXCEEDED */
    assert_non_null(strstr(r.msg, "/foo.Bar/Baz"));
    rpc_clear(&r);

    size_t len;
    uint8_t *req = tu_make_logs(1, &len);
    rpc_sync(f->ch, M_LOGS, req, len, &r);
    assert_int_equal(r.status, GRPC_STATUS_UNIMPLEMENTED);
    assert_string_equal(r.msg, "no pipeline for logs");
    rpc_clear(&r);
    free(req);

    /* the server still serves the others */
    req = make_traces(1, 16, 4, &len);
    rpc_sync(f->ch, M_TRACES, req, len, &r);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    rpc_clear(&r);
    free(req);
    assert_int_equal(f->rec.calls, 1);
    fx_stop(f);
}

#define CALLS_PER_THREAD 25

struct client_thread {
    int port;
    const uint8_t *req;
    size_t len;
    int ok;
};

static void *client_main(void *arg)
{
    struct client_thread *t = arg;
    grpc_channel *ch = channel_to(t->port, false);
    grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
    struct rpc *calls = calloc(CALLS_PER_THREAD, sizeof *calls);
    for (int i = 0; i < CALLS_PER_THREAD; i++)
        rpc_start(&calls[i], ch, cq, M_TRACES, t->req, t->len);
    for (int i = 0; i < CALLS_PER_THREAD; i++) {
        grpc_event ev = grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        struct rpc *r = ev.tag;
        rpc_end(r);
        if (r->status == GRPC_STATUS_OK)
            t->ok++;
        rpc_clear(r);
    }
    free(calls);
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(cq);
    grpc_channel_destroy(ch);
    return NULL;
}

static void test_concurrent_calls(void **state)
{
    (void)state;
    struct fx *f = fx_start("protocols:\n  grpc:\n    endpoint: 127.0.0.1:0\n    num_threads: 3\n",
                            ALL_SIGNALS);
    size_t len;
    uint8_t *req = make_traces(10, 16, 20, &len);
    struct client_thread t[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        t[i] = (struct client_thread){.port = f->port, .req = req, .len = len};
        assert_int_equal(pthread_create(&th[i], NULL, client_main, &t[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(t[0].ok + t[1].ok, 2 * CALLS_PER_THREAD);
    assert_int_equal(f->rec.calls, 2 * CALLS_PER_THREAD);
    assert_int_equal(f->rec.items, 2 * CALLS_PER_THREAD * 10);
    assert_int_equal(telemetry_value(f->tel, "otelcol_receiver_accepted_spans", LABELS),
                     2 * CALLS_PER_THREAD * 10);
    assert_int_equal(f->rec.bad, 0);
    free(req);
    fx_stop(f);
}

struct shutdown_arg {
    struct fx *f;
    int64_t deadline_ns;
    bool done;
};

static void *shutdown_main(void *arg)
{
    struct shutdown_arg *a = arg;
    otlp_receiver_factory.shutdown(a->f->rx, a->deadline_ns);
    a->done = true;
    return NULL;
}

/* A call inside the pipeline when shutdown starts: with time left it completes OK; with the
 * deadline already passed it is cancelled; either way shutdown returns once the handler is out. */
static void shutdown_with_call_in_flight(int64_t grace_ns, bool expect_ok)
{
    struct fx *f = fx_start(LOCAL_YAML, ALL_SIGNALS);
    f->rec.block = true;
    size_t len;
    uint8_t *req = make_traces(3, 16, 4, &len);
    grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
    struct rpc r;
    rpc_start(&r, f->ch, cq, M_TRACES, req, len);

    pthread_mutex_lock(&f->rec.mu);
    while (!f->rec.entered)
        pthread_cond_wait(&f->rec.cv, &f->rec.mu);
    pthread_mutex_unlock(&f->rec.mu);

    struct shutdown_arg a = {.f = f, .deadline_ns = clock_now_ns() + grace_ns};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, shutdown_main, &a), 0);
    usleep(100 * 1000); /* let shutdown begin while the handler is still inside the pipeline */
    pthread_mutex_lock(&f->rec.mu);
    f->rec.release = true;
    pthread_cond_broadcast(&f->rec.cv);
    pthread_mutex_unlock(&f->rec.mu);

    rpc_wait(&r, cq);
    pthread_join(th, NULL);
    assert_true(a.done);
    assert_int_equal(f->rec.calls, 1);
    if (expect_ok)
        assert_int_equal(r.status, GRPC_STATUS_OK);
    else
        assert_int_not_equal(r.status, GRPC_STATUS_OK);
    rpc_clear(&r);
    grpc_completion_queue_shutdown(cq);
    grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    grpc_completion_queue_destroy(cq);
    free(req);
    fx_stop(f); /* second shutdown is a no-op */
}

static void test_shutdown_lets_call_finish(void **state)
{
    (void)state;
    shutdown_with_call_in_flight(20 * 1000000000LL, true);
}

static void test_shutdown_past_deadline_cancels(void **state)
{
    (void)state;
    shutdown_with_call_in_flight(0, false);
}

static void test_port_in_use(void **state)
{
    (void)state;
    struct fx *f = fx_start(LOCAL_YAML, ALL_SIGNALS);
    char yaml[128];
    snprintf(yaml, sizeof yaml, "protocols:\n  grpc:\n    endpoint: 127.0.0.1:%d\n", f->port);
    struct otlp_receiver_config cfg;
    struct error err = {0};
    assert_int_equal(bind_yaml(yaml, &cfg, &err), 0);
    struct component_env env = {.id = "otlp/2", .log_name = "receiver/otlp/2"};
    env.next[SIGNAL_TRACES] = &f->rec.base;
    void *rx = otlp_receiver_factory.create(&cfg, &env, &err);
    assert_non_null(rx);
    assert_int_not_equal(otlp_receiver_factory.start(rx, &err), 0);
    char want[64];
    snprintf(want, sizeof want, "cannot listen on 127.0.0.1:%d", f->port);
    assert_string_equal(err.msg, want);
    assert_int_equal(otlp_receiver_grpc_port(rx), 0);
    otlp_receiver_factory.shutdown(rx, clock_now_ns());
    otlp_receiver_factory.destroy(rx);
    config_free_bound(otlp_receiver_factory.fields, &cfg);
    fx_stop(f);
}

static void test_config_defaults_and_validation(void **state)
{
    (void)state;
    struct otlp_receiver_config cfg;
    struct error err = {0};

    /* `grpc:` with no value enables gRPC with the Collector's defaults */
    assert_int_equal(bind_yaml("protocols:\n  grpc:\n", &cfg, &err), 0);
    assert_true(cfg.protocols.has_grpc);
    assert_false(cfg.protocols.has_http);
    assert_string_equal(cfg.protocols.grpc.endpoint, "localhost:4317");
    assert_int_equal(cfg.protocols.grpc.max_recv_msg_size_mib, 4);
    assert_int_equal(cfg.protocols.grpc.num_threads, 2);
    assert_string_equal(cfg.protocols.grpc.transport, "tcp");
    assert_false(cfg.protocols.grpc.has_tls);
    config_free_bound(otlp_receiver_factory.fields, &cfg);

    /* Collector keys from its own test configs load unchanged */
    assert_int_equal(bind_yaml("protocols:\n"
                               "  grpc:\n"
                               "    endpoint: localhost:4317\n"
                               "    max_recv_msg_size_mib: 64\n"
                               "    max_concurrent_streams: 16\n"
                               "    read_buffer_size: 1024\n"
                               "    write_buffer_size: 1024\n"
                               "    include_metadata: true\n"
                               "    transport: tcp\n"
                               "    keepalive:\n"
                               "      server_parameters: {max_connection_idle: 11s, max_connection_age: 12s,\n"
                               "                          max_connection_age_grace: 13s, time: 30s, timeout: 5s}\n"
                               "      enforcement_policy: {min_time: 10s, permit_without_stream: true}\n"
                               "  http:\n"
                               "    endpoint: 0.0.0.0:4318\n"
                               "    max_request_body_size: 67108864\n"
                               "    traces_url_path: /traces\n"
                               "    include_metadata: true\n"
                               "    cors: {allowed_origins: [\"https://*.example.com\"], max_age: 7200}\n",
                               &cfg, &err),
                     0);
    assert_int_equal(cfg.protocols.grpc.keepalive.server_parameters.max_connection_age_grace,
                     13000000000LL);
    assert_int_equal(cfg.protocols.grpc.keepalive.server_parameters.timeout, 5000000000LL);
    assert_int_equal(cfg.protocols.grpc.keepalive.enforcement_policy.min_time, 10000000000LL);
    assert_true(cfg.protocols.grpc.keepalive.enforcement_policy.permit_without_stream);
    assert_int_equal(cfg.protocols.grpc.max_recv_msg_size_mib, 64);
    assert_true(cfg.protocols.has_http);
    assert_string_equal(cfg.protocols.http.traces_url_path, "/traces");
    assert_string_equal(cfg.protocols.http.logs_url_path, "/v1/logs");
    assert_int_equal(cfg.protocols.http.cors.allowed_origins.n, 1);
    assert_int_equal(cfg.protocols.http.cors.max_age, 7200);
    config_free_bound(otlp_receiver_factory.fields, &cfg);

    assert_int_not_equal(bind_yaml("protocols: {}\n", &cfg, &err), 0);
    assert_non_null(strstr(err.msg, "at least one protocol"));
    config_free_bound(otlp_receiver_factory.fields, &cfg);

    assert_int_not_equal(bind_yaml("protocols:\n  grpc:\n    max_recv_msg_size_mib: 0\n", &cfg, &err), 0);
    assert_non_null(strstr(err.msg, "max_recv_msg_size_mib"));
    config_free_bound(otlp_receiver_factory.fields, &cfg);

    assert_int_not_equal(bind_yaml("protocols:\n  grpc:\n    tls: {}\n", &cfg, &err), 0);
    assert_non_null(strstr(err.msg, "cert_file"));
    config_free_bound(otlp_receiver_factory.fields, &cfg);

    assert_int_not_equal(bind_yaml("protocols:\n  grpc:\n    transport: udp\n", &cfg, &err), 0);
    assert_non_null(strstr(err.msg, "transport"));
    config_free_bound(otlp_receiver_factory.fields, &cfg);

    /* an unknown key is refused by the binder with the known keys listed */
    assert_int_not_equal(bind_yaml("protocols:\n  grpc:\n    endpont: x:1\n", &cfg, &err), 0);
    assert_non_null(strstr(err.msg, "endpoint"));
    config_free_bound(otlp_receiver_factory.fields, &cfg);
}

static void test_http_only_serves_no_grpc(void **state)
{
    (void)state;
    struct otlp_receiver_config cfg;
    struct error err = {0};
    assert_int_equal(bind_yaml("protocols:\n  http:\n    endpoint: 127.0.0.1:0\n", &cfg, &err), 0);
    struct tu_rec rec;
    tu_rec_init(&rec);
    struct component_env env = {.id = "otlp", .log_name = "receiver/otlp"};
    env.next[SIGNAL_TRACES] = &rec.base;
    void *rx = otlp_receiver_factory.create(&cfg, &env, &err);
    assert_non_null(rx);
    assert_int_equal(otlp_receiver_factory.start(rx, &err), 0);
    assert_int_equal(otlp_receiver_grpc_port(rx), 0);
    otlp_receiver_factory.shutdown(rx, clock_now_ns());
    otlp_receiver_factory.destroy(rx);
    config_free_bound(otlp_receiver_factory.fields, &cfg);
    tu_rec_fini(&rec);
}

static void test_tls(void **state)
{
    (void)state;
    char cert[] = "/tmp/llmotlp-test-cert-XXXXXX", key[] = "/tmp/llmotlp-test-key-XXXXXX";
    tu_write_temp(cert, tu_test_cert_pem);
    tu_write_temp(key, tu_test_key_pem);
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "protocols:\n  grpc:\n    endpoint: 127.0.0.1:0\n    tls:\n      cert_file: %s\n"
             "      key_file: %s\n",
             cert, key);
    struct fx *f = fx_start(yaml, ALL_SIGNALS);

    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", f->port);
    grpc_arg a = {.type = GRPC_ARG_STRING, .key = GRPC_SSL_TARGET_NAME_OVERRIDE_ARG,
                  .value.string = "localhost"};
    grpc_channel_args args = {.num_args = 1, .args = &a};
    grpc_channel_credentials *cr = grpc_ssl_credentials_create(tu_test_cert_pem, NULL, NULL, NULL);
    grpc_channel *tls = grpc_channel_create(target, cr, &args);
    grpc_channel_credentials_release(cr);

    size_t len;
    uint8_t *req = make_traces(2, 16, 4, &len);
    struct rpc r;
    rpc_sync(tls, M_TRACES, req, len, &r);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    assert_int_equal(f->rec.calls, 1);
    assert_memory_equal(f->rec.last, req, len);
    rpc_clear(&r);

    /* a plaintext client cannot talk to the TLS port */
    rpc_sync(f->ch, M_TRACES, req, len, &r);
    assert_int_not_equal(r.status, GRPC_STATUS_OK);
    assert_int_equal(f->rec.calls, 1);
    rpc_clear(&r);

    free(req);
    grpc_channel_destroy(tls);
    fx_stop(f);
    unlink(cert);
    unlink(key);
}

static void test_tls_missing_file(void **state)
{
    (void)state;
    struct otlp_receiver_config cfg;
    struct error err = {0};
    assert_int_equal(bind_yaml("protocols:\n  grpc:\n    endpoint: 127.0.0.1:0\n    tls:\n"
                               "      cert_file: /nonexistent/c.pem\n      key_file: /nonexistent/k.pem\n",
                               &cfg, &err),
                     0);
    struct component_env env = {.id = "otlp", .log_name = "receiver/otlp"};
    void *rx = otlp_receiver_factory.create(&cfg, &env, &err);
    assert_non_null(rx);
    assert_int_not_equal(otlp_receiver_factory.start(rx, &err), 0);
    assert_non_null(strstr(err.msg, "/nonexistent/c.pem"));
    otlp_receiver_factory.destroy(rx);
    config_free_bound(otlp_receiver_factory.fields, &cfg);
}

/* client_ca_file set: a client must present a certificate that chains to it. */
static void test_mutual_tls(void **state)
{
    (void)state;
    char cert[] = "/tmp/llmotlp-test-cert-XXXXXX", key[] = "/tmp/llmotlp-test-key-XXXXXX";
    tu_write_temp(cert, tu_test_cert_pem);
    tu_write_temp(key, tu_test_key_pem);
    char yaml[600];
    snprintf(yaml, sizeof yaml,
             "protocols:\n  grpc:\n    endpoint: 127.0.0.1:0\n    tls:\n      cert_file: %s\n"
             "      key_file: %s\n      client_ca_file: %s\n",
             cert, key, cert);
    struct fx *f = fx_start(yaml, ALL_SIGNALS);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", f->port);
    grpc_arg a = {.type = GRPC_ARG_STRING, .key = GRPC_SSL_TARGET_NAME_OVERRIDE_ARG,
                  .value.string = "localhost"};
    grpc_channel_args args = {.num_args = 1, .args = &a};
    size_t len;
    uint8_t *req = make_traces(1, 16, 4, &len);
    struct rpc r;

    grpc_ssl_pem_key_cert_pair pair = {.private_key = tu_test_key_pem, .cert_chain = tu_test_cert_pem};
    grpc_channel_credentials *cr = grpc_ssl_credentials_create(tu_test_cert_pem, &pair, NULL, NULL);
    grpc_channel *with_cert = grpc_channel_create(target, cr, &args);
    grpc_channel_credentials_release(cr);
    rpc_sync(with_cert, M_TRACES, req, len, &r);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    rpc_clear(&r);
    grpc_channel_destroy(with_cert);

    cr = grpc_ssl_credentials_create(tu_test_cert_pem, NULL, NULL, NULL);
    grpc_channel *no_cert = grpc_channel_create(target, cr, &args);
    grpc_channel_credentials_release(cr);
    rpc_sync(no_cert, M_TRACES, req, len, &r);
    assert_int_not_equal(r.status, GRPC_STATUS_OK);
    rpc_clear(&r);
    grpc_channel_destroy(no_cert);

    assert_int_equal(f->rec.calls, 1);
    free(req);
    fx_stop(f);
    unlink(cert);
    unlink(key);
}

static void test_unix_socket(void **state)
{
    (void)state;
    char dir[] = "/tmp/llmotlp-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], yaml[300], target[160];
    snprintf(path, sizeof path, "%s/otlp.sock", dir);
    snprintf(yaml, sizeof yaml, "protocols:\n  grpc:\n    transport: unix\n    endpoint: %s\n", path);
    struct fx *f = fx_start(yaml, ALL_SIGNALS);
    snprintf(target, sizeof target, "unix:%s", path);
    grpc_channel_credentials *cr = grpc_insecure_credentials_create();
    grpc_channel *ch = grpc_channel_create(target, cr, NULL);
    grpc_channel_credentials_release(cr);
    size_t len;
    uint8_t *req = tu_make_logs(4, &len);
    struct rpc r;
    rpc_sync(ch, M_LOGS, req, len, &r);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    assert_int_equal(f->rec.items, 4);
    rpc_clear(&r);
    free(req);
    grpc_channel_destroy(ch);
    fx_stop(f);
    unlink(path);
    rmdir(dir);
}

/* A flood of bad requests costs a warning a second, not one per request. */
static void test_refusal_warnings_rate_limited(void **state)
{
    (void)state;
    enum log_level saved = log_get_level();
    struct fx *f = fx_start(LOCAL_YAML, ALL_SIGNALS);
    char path[] = "/tmp/llmotlp-test-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int old = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    log_set_level(LOG_WARN);
    static const uint8_t junk[] = {0xff, 0xff, 0xff};
    enum { N = 20 };
    int invalid = 0;
    for (int i = 0; i < N; i++) {
        struct rpc r;
        rpc_sync(f->ch, M_TRACES, junk, sizeof junk, &r);
        invalid += r.status == GRPC_STATUS_INVALID_ARGUMENT;
        rpc_clear(&r);
    }
    log_set_level(saved);
    dup2(old, STDERR_FILENO);
    close(old);
    FILE *in = fdopen(fd, "r");
    assert_non_null(in);
    rewind(in);
    char line[4096];
    int warns = 0;
    while (fgets(line, sizeof line, in))
        warns += strstr(line, "refused traces request") != NULL;
    fclose(in);
    unlink(path);
    assert_int_equal(invalid, N);
    assert_true(warns >= 1);
    assert_true(warns < N);
    assert_int_equal(telemetry_value(f->tel, "llmotlp_receiver_malformed_requests", LABELS), N);
    fx_stop(f);
}

/* ---- bounded inflation (otlp_grpc_read_message) ---------------------------------------------- */

/* `in` compressed as gRPC's gzip (windowBits 31) or deflate (zlib format, 15). malloc'd. */
static uint8_t *zcompress(const uint8_t *in, size_t n, bool gzip, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, gzip ? 31 : 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&zs, (uLong)n);
    uint8_t *out = malloc(cap);
    assert_non_null(out);
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *out_len = zs.total_out;
    deflateEnd(&zs);
    return out;
}

/* A compressed byte buffer as core hands it over with decompression off, cut in slices of
 * `slice` bytes (so the inflater's loop over slices is exercised). */
static grpc_byte_buffer *compressed_bb(const uint8_t *z, size_t n, grpc_compression_algorithm algo,
                                       size_t slice)
{
    size_t ns = n / slice + 1;
    grpc_slice *sl = calloc(ns, sizeof *sl);
    size_t k = 0;
    for (size_t off = 0; off < n; off += slice)
        sl[k++] = grpc_slice_from_copied_buffer((const char *)z + off, n - off < slice ? n - off : slice);
    grpc_byte_buffer *bb = grpc_raw_compressed_byte_buffer_create(sl, k, algo);
    for (size_t i = 0; i < k; i++)
        grpc_slice_unref(sl[i]);
    free(sl);
    return bb;
}

static int read_compressed(const uint8_t *plain, size_t n, bool gzip, size_t max, size_t slice,
                           uint8_t **out, size_t *len, char *msg)
{
    size_t zn;
    uint8_t *z = zcompress(plain, n, gzip, &zn);
    grpc_byte_buffer *bb = compressed_bb(z, zn, gzip ? GRPC_COMPRESS_GZIP : GRPC_COMPRESS_DEFLATE, slice);
    int st = otlp_grpc_read_message(bb, max, out, len, msg, 300);
    grpc_byte_buffer_destroy(bb);
    free(z);
    return st;
}

static void test_inflate_bounded(void **state)
{
    (void)state;
    char msg[300];
    uint8_t *out;
    size_t len;
    /* a message that compresses well, in both encodings and several slice sizes */
    size_t n = 300000;
    uint8_t *plain = malloc(n);
    for (size_t i = 0; i < n; i++)
        plain[i] = (uint8_t)((i * 7) % 13 + (i / 1000) % 3);
    for (int gz = 0; gz < 2; gz++) {
        for (size_t slice = 1; slice <= 1u << 20; slice *= 64) {
            int st = read_compressed(plain, n, gz, n, slice, &out, &len, msg);
            assert_int_equal(st, GRPC_STATUS_OK);
            assert_int_equal(len, n);
            assert_memory_equal(out, plain, n);
            free(out);
            /* one byte over the limit: refused, nothing handed out */
            out = (uint8_t *)1;
            st = read_compressed(plain, n, gz, n - 1, slice, &out, &len, msg);
            assert_int_equal(st, GRPC_STATUS_RESOURCE_EXHAUSTED);
            assert_null(out);
            assert_non_null(strstr(msg, "max_recv_msg_size_mib"));
        }
    }
    /* a bomb: 64 MiB of zeros (64 KiB compressed) against a 1 MiB limit */
    size_t bn = (size_t)64 << 20;
    uint8_t *zeros = calloc(1, bn);
    int st = read_compressed(zeros, bn, true, (size_t)1 << 20, 16384, &out, &len, msg);
    assert_int_equal(st, GRPC_STATUS_RESOURCE_EXHAUSTED);
    free(zeros);
    /* two gzip members make one message (RFC 1952); deflate has no such thing */
    size_t z1n, z2n;
    uint8_t *z1 = zcompress(plain, 1000, true, &z1n), *z2 = zcompress(plain + 1000, 2000, true, &z2n);
    uint8_t *both = malloc(z1n + z2n);
    memcpy(both, z1, z1n);
    memcpy(both + z1n, z2, z2n);
    grpc_byte_buffer *bb = compressed_bb(both, z1n + z2n, GRPC_COMPRESS_GZIP, 100);
    assert_int_equal(otlp_grpc_read_message(bb, n, &out, &len, msg, sizeof msg), GRPC_STATUS_OK);
    assert_int_equal(len, 3000);
    assert_memory_equal(out, plain, 3000);
    free(out);
    grpc_byte_buffer_destroy(bb);
    free(both);
    free(z2);
    uint8_t *d1 = zcompress(plain, 1000, false, &z1n);
    both = malloc(z1n * 2);
    memcpy(both, d1, z1n);
    memcpy(both + z1n, d1, z1n);
    bb = compressed_bb(both, z1n * 2, GRPC_COMPRESS_DEFLATE, 100);
    assert_int_equal(otlp_grpc_read_message(bb, n, &out, &len, msg, sizeof msg), GRPC_STATUS_INVALID_ARGUMENT);
    grpc_byte_buffer_destroy(bb);
    free(both);
    free(d1);
    /* the look-ahead that counts the rest before the last growth (inflated_rest) crosses gzip
     * members and slices, and leaves corrupt data past half the limit to the main pass */
    size_t h = n / 2, za, zb;
    uint8_t *ga = zcompress(plain, h, true, &za), *gb = zcompress(plain + h, n - h, true, &zb);
    both = malloc(za + zb);
    memcpy(both, ga, za);
    memcpy(both + za, gb, zb);
    for (size_t max = n - 1; max <= n; max++) {
        bb = compressed_bb(both, za + zb, GRPC_COMPRESS_GZIP, 333);
        out = NULL;
        int r = otlp_grpc_read_message(bb, max, &out, &len, msg, sizeof msg);
        assert_int_equal(r, max == n ? GRPC_STATUS_OK : GRPC_STATUS_RESOURCE_EXHAUSTED);
        if (max == n) {
            assert_int_equal(len, n);
            assert_memory_equal(out, plain, n);
        }
        free(out);
        grpc_byte_buffer_destroy(bb);
    }
    memset(both + za + zb / 2, 0xff, 64);
    bb = compressed_bb(both, za + zb, GRPC_COMPRESS_GZIP, 333);
    assert_int_equal(otlp_grpc_read_message(bb, n, &out, &len, msg, sizeof msg), GRPC_STATUS_INVALID_ARGUMENT);
    grpc_byte_buffer_destroy(bb);
    free(both);
    free(ga);
    free(gb);
    /* truncated and corrupt streams */
    bb = compressed_bb(z1, z1n / 2, GRPC_COMPRESS_GZIP, 7);
    assert_int_equal(otlp_grpc_read_message(bb, n, &out, &len, msg, sizeof msg), GRPC_STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(msg, "truncated"));
    grpc_byte_buffer_destroy(bb);
    memset(z1 + 10, 0xff, 20);
    bb = compressed_bb(z1, z1n, GRPC_COMPRESS_GZIP, 7);
    assert_int_equal(otlp_grpc_read_message(bb, n, &out, &len, msg, sizeof msg), GRPC_STATUS_INVALID_ARGUMENT);
    grpc_byte_buffer_destroy(bb);
    free(z1);
    /* an empty compressed message is an empty request; no message at all too */
    bb = compressed_bb(NULL, 0, GRPC_COMPRESS_GZIP, 1);
    assert_int_equal(otlp_grpc_read_message(bb, n, &out, &len, msg, sizeof msg), GRPC_STATUS_OK);
    assert_null(out);
    assert_int_equal(len, 0);
    grpc_byte_buffer_destroy(bb);
    assert_int_equal(otlp_grpc_read_message(NULL, n, &out, &len, msg, sizeof msg), GRPC_STATUS_OK);
    assert_null(out);
    /* uncompressed: copied, and the limit still holds */
    grpc_slice one = grpc_slice_from_copied_buffer((const char *)plain, 5000);
    bb = grpc_raw_byte_buffer_create(&one, 1);
    grpc_slice_unref(one);
    assert_int_equal(otlp_grpc_read_message(bb, 5000, &out, &len, msg, sizeof msg), GRPC_STATUS_OK);
    assert_int_equal(len, 5000);
    assert_memory_equal(out, plain, 5000);
    free(out);
    assert_int_equal(otlp_grpc_read_message(bb, 4999, &out, &len, msg, sizeof msg),
                     GRPC_STATUS_RESOURCE_EXHAUSTED);
    grpc_byte_buffer_destroy(bb);
    free(plain);
}

/* Over the wire: a gzip bomb from a gRPC core client (which compresses what it sends) is refused
 * with RESOURCE_EXHAUSTED and never reaches the pipeline; deflate works as gzip does. */
static void test_grpc_bomb_and_deflate(void **state)
{
    (void)state;
    struct fx *f = fx_start(LOCAL_YAML_MIB1, ALL_SIGNALS);
    grpc_channel *gz = channel_to(f->port, true);
    size_t bn = (size_t)32 << 20;
    uint8_t *zeros = calloc(1, bn);
    struct rpc r;
    rpc_sync(gz, M_TRACES, zeros, bn, &r);
    assert_int_equal(r.status, GRPC_STATUS_RESOURCE_EXHAUSTED);
    assert_int_equal(f->rec.calls, 0);
    rpc_clear(&r);
    free(zeros);
    size_t len;
    uint8_t *req = make_traces(50, 16, 300, &len);
    rpc_sync(gz, M_TRACES, req, len, &r);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    assert_int_equal(f->rec.calls, 1);
    assert_memory_equal(f->rec.last, req, len);
    rpc_clear(&r);
    grpc_channel_destroy(gz);
    grpc_channel *df = channel_with_compression(f->port, GRPC_COMPRESS_DEFLATE);
    rpc_sync(df, M_TRACES, req, len, &r);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    assert_int_equal(f->rec.calls, 2);
    assert_int_equal(f->rec.last_len, len);
    assert_memory_equal(f->rec.last, req, len);
    rpc_clear(&r);
    grpc_channel_destroy(df);
    free(req);
    fx_stop(f);
}

int main(void)
{
    /* The refusals these tests provoke would warn; TEST_LOG_LEVEL=debug shows everything. */
    const char *lv = getenv("TEST_LOG_LEVEL");
    log_set_level(lv && log_level_parse(lv) >= 0 ? (enum log_level)log_level_parse(lv) : LOG_ERROR);
    grpc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults_and_validation),
        cmocka_unit_test(test_three_signals_delivered_intact),
        cmocka_unit_test(test_gzip_request),
        cmocka_unit_test(test_inflate_bounded),
        cmocka_unit_test(test_grpc_bomb_and_deflate),
        cmocka_unit_test(test_malformed_then_valid),
        cmocka_unit_test(test_short_trace_id),
        cmocka_unit_test(test_nesting_bomb),
        cmocka_unit_test(test_oversized_request),
        cmocka_unit_test(test_empty_request),
        cmocka_unit_test(test_retry_gives_unavailable_with_retry_info),
        cmocka_unit_test(test_reject_gives_invalid_argument),
        cmocka_unit_test(test_partial_success),
        cmocka_unit_test(test_unknown_method_and_missing_pipeline),
        cmocka_unit_test(test_concurrent_calls),
        cmocka_unit_test(test_shutdown_lets_call_finish),
        cmocka_unit_test(test_shutdown_past_deadline_cancels),
        cmocka_unit_test(test_port_in_use),
        cmocka_unit_test(test_http_only_serves_no_grpc),
        cmocka_unit_test(test_tls),
        cmocka_unit_test(test_tls_missing_file),
        cmocka_unit_test(test_mutual_tls),
        cmocka_unit_test(test_unix_socket),
        cmocka_unit_test(test_refusal_warnings_rate_limited),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    grpc_shutdown_blocking();
    return rc;
}
