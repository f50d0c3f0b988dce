/* test_otlp_exporter.c — the otlp exporter against an in-test OTLP/gRPC server built on gRPC
 * core (async server, one completion queue, one thread). The server records every request
 * (signal, body bytes, metadata) and answers from a script: status codes, RetryInfo in
 * grpc-status-details-bin, partial success. The tests assert what arrived on the wire: the
 * batch's exact bytes, once after retries, headers as metadata, gzip on the wire, permanent
 * errors not retried, INVALID_ARGUMENT narrowed to the poisoned span (poison mode: the server
 * decodes each request and refuses those holding a span with poison=true), and delivery after
 * the server was down for a while. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/status.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/batch.h"
#include "core/config.h"
#include "core/log.h"
#include "core/telemetry.h"
#include "exporters/otlp/otlp_exporter.h"
#include "google/rpc/status.pb-c.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "tests/unit/testutil.h"

#define MS 1000000LL
#define LABELS "exporter=\"otlp/test\""

/* ---- scripted server ------------------------------------------------------------------------- */

struct action {
    grpc_status_code code;
    int64_t retry_delay_ms;   /* > 0: RetryInfo in grpc-status-details-bin */
    int64_t partial_rejected; /* OK with partial_success */
    const char *partial_msg;
    bool hang;                /* never answer: wait for the client to cancel */
};

struct request_rec {
    int sig;
    uint8_t *data;
    size_t len;
    char header[128];         /* value of x-test-header, "" if absent */
    grpc_status_code answered;
};

struct call_ctx {
    int sig;
    bool finishing;
    grpc_call *call;
    gpr_timespec deadline;
    grpc_metadata_array md;
    grpc_byte_buffer *req;
    grpc_byte_buffer *resp;
    grpc_slice details;
    grpc_metadata trailer[1];
    size_t ntrailer;
    int cancelled;
};

struct server {
    grpc_server *srv;
    grpc_completion_queue *cq;
    pthread_t th;
    int port;
    void *method[SIGNAL_COUNT];
    int shutdown_tag;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct request_rec rec[64];
    int nrec;
    struct action script[16];
    int nscript, pos;
    /* poison mode: decode each trace request; INVALID_ARGUMENT when a span carries
     * poison=true, else OK and count every span by its name "s<i>" */
    bool poison;
    int got[128];
};

/* Poison mode's answer to one trace request (mu held). */
static void poison_answer(struct server *s, const struct request_rec *r, struct action *a)
{
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *req =
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
            NULL, r->len, r->data);
    assert_non_null(req);
    bool bad = false;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < req->n_resource_spans; i++)
            for (size_t k = 0; k < req->resource_spans[i]->n_scope_spans; k++) {
                Opentelemetry__Proto__Trace__V1__ScopeSpans *ss =
                    req->resource_spans[i]->scope_spans[k];
                for (size_t j = 0; j < ss->n_spans; j++) {
                    if (pass == 0 && ss->spans[j]->n_attributes > 0)
                        bad = true;
                    if (pass == 1 && !bad)
                        s->got[atoi(ss->spans[j]->name + 1) & 127]++;
                }
            }
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req,
                                                                                            NULL);
    a->code = bad ? GRPC_STATUS_INVALID_ARGUMENT : GRPC_STATUS_OK;
}

static const char *const methods[SIGNAL_COUNT] = {
    "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
    "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
};

static void post(struct server *s, int sig)
{
    struct call_ctx *c = calloc(1, sizeof *c);
    c->sig = sig;
    grpc_metadata_array_init(&c->md);
    c->details = grpc_empty_slice();
    grpc_call_error e = grpc_server_request_registered_call(
        s->srv, s->method[sig], &c->call, &c->deadline, &c->md, &c->req, s->cq, s->cq, c);
    assert_int_equal(e, GRPC_CALL_OK);
}

static void ctx_free(struct call_ctx *c)
{
    grpc_metadata_array_destroy(&c->md);
    if (c->req)
        grpc_byte_buffer_destroy(c->req);
    if (c->resp)
        grpc_byte_buffer_destroy(c->resp);
    grpc_slice_unref(c->details);
    for (size_t i = 0; i < c->ntrailer; i++) {
        grpc_slice_unref(c->trailer[i].key);
        grpc_slice_unref(c->trailer[i].value);
    }
    if (c->call)
        grpc_call_unref(c->call);
    free(c);
}

static grpc_slice pack_status_details(grpc_status_code code, int64_t delay_ms)
{
    Google__Protobuf__Duration d = GOOGLE__PROTOBUF__DURATION__INIT;
    d.seconds = delay_ms / 1000;
    d.nanos = (int32_t)((delay_ms % 1000) * 1000000);
    Google__Rpc__RetryInfo ri = GOOGLE__RPC__RETRY_INFO__INIT;
    ri.retry_delay = &d;
    uint8_t ri_buf[64];
    size_t ri_len = google__rpc__retry_info__pack(&ri, ri_buf);
    Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
    any.type_url = "type.googleapis.com/google.rpc.RetryInfo";
    any.value.data = ri_buf;
    any.value.len = ri_len;
    Google__Protobuf__Any *details[1] = {&any};
    Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
    st.code = (int32_t)code;
    st.message = "slow down";
    st.n_details = 1;
    st.details = details;
    grpc_slice out = grpc_slice_malloc(google__rpc__status__get_packed_size(&st));
    google__rpc__status__pack(&st, GRPC_SLICE_START_PTR(out));
    return out;
}

static grpc_slice pack_partial(int sig, int64_t rejected, const char *msg)
{
    size_t n;
    uint8_t *buf;
    if (sig == SIGNAL_TRACES) {
        Opentelemetry__Proto__Collector__Trace__V1__ExportTracePartialSuccess ps =
            OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
        ps.rejected_spans = rejected;
        ps.error_message = (char *)msg;
        Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse r =
            OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
        r.partial_success = &ps;
        n = protobuf_c_message_get_packed_size(&r.base);
        buf = malloc(n + 1);
        protobuf_c_message_pack(&r.base, buf);
    } else {
        Opentelemetry__Proto__Collector__Logs__V1__ExportLogsPartialSuccess ps =
            OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_PARTIAL_SUCCESS__INIT;
        ps.rejected_log_records = rejected;
        ps.error_message = (char *)msg;
        Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse r =
            OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_RESPONSE__INIT;
        r.partial_success = &ps;
        n = protobuf_c_message_get_packed_size(&r.base);
        buf = malloc(n + 1);
        protobuf_c_message_pack(&r.base, buf);
    }
    grpc_slice s = grpc_slice_from_copied_buffer((const char *)buf, n);
    free(buf);
    return s;
}

static void handle(struct server *s, struct call_ctx *c)
{
    struct action a = {.code = GRPC_STATUS_OK};
    pthread_mutex_lock(&s->mu);
    if (s->pos < s->nscript)
        a = s->script[s->pos++];
    struct request_rec *r = &s->rec[s->nrec < 64 ? s->nrec++ : 63];
    memset(r, 0, sizeof *r);
    r->sig = c->sig;
    r->answered = a.code;
    if (c->req) {
        grpc_byte_buffer_reader rd;
        if (grpc_byte_buffer_reader_init(&rd, c->req)) {
            grpc_slice all = grpc_byte_buffer_reader_readall(&rd);
            grpc_byte_buffer_reader_destroy(&rd);
            r->len = GRPC_SLICE_LENGTH(all);
            r->data = malloc(r->len + 1);
            memcpy(r->data, GRPC_SLICE_START_PTR(all), r->len);
            grpc_slice_unref(all);
        }
    }
    if (s->poison && r->data) {
        poison_answer(s, r, &a);
        r->answered = a.code;
    }
    for (size_t i = 0; i < c->md.count; i++)
        if (grpc_slice_str_cmp(c->md.metadata[i].key, "x-test-header") == 0)
            snprintf(r->header, sizeof r->header, "%.*s",
                     (int)GRPC_SLICE_LENGTH(c->md.metadata[i].value),
                     (const char *)GRPC_SLICE_START_PTR(c->md.metadata[i].value));
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);

    grpc_op ops[4];
    memset(ops, 0, sizeof ops);
    size_t n = 0;
    if (a.hang) {
        ops[0].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
        ops[0].data.recv_close_on_server.cancelled = &c->cancelled;
        c->finishing = true;
        assert_int_equal(grpc_call_start_batch(c->call, ops, 1, c, NULL), GRPC_CALL_OK);
        return;
    }
    ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
    if (a.code == GRPC_STATUS_OK) {
        grpc_slice body = a.partial_rejected || a.partial_msg
                              ? pack_partial(c->sig, a.partial_rejected, a.partial_msg)
                              : grpc_empty_slice();
        c->resp = grpc_raw_byte_buffer_create(&body, 1);
        grpc_slice_unref(body);
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = c->resp;
    } else {
        c->details = grpc_slice_from_copied_string("scripted status");
        if (a.retry_delay_ms > 0) {
            c->trailer[0].key = grpc_slice_from_static_string("grpc-status-details-bin");
            c->trailer[0].value = pack_status_details(a.code, a.retry_delay_ms);
            c->ntrailer = 1;
        }
    }
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = a.code;
    ops[n].data.send_status_from_server.status_details =
        a.code == GRPC_STATUS_OK ? NULL : &c->details;
    ops[n].data.send_status_from_server.trailing_metadata_count = c->ntrailer;
    ops[n++].data.send_status_from_server.trailing_metadata = c->trailer;
    ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[n++].data.recv_close_on_server.cancelled = &c->cancelled;
    c->finishing = true;
    assert_int_equal(grpc_call_start_batch(c->call, ops, n, c, NULL), GRPC_CALL_OK);
}

static void *server_main(void *arg)
{
    struct server *s = arg;
    bool shutting = false;
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.tag == &s->shutdown_tag) {
            shutting = true;
            grpc_completion_queue_shutdown(s->cq);
            continue;
        }
        struct call_ctx *c = ev.tag;
        if (c->finishing || !ev.success) {
            ctx_free(c);
            continue;
        }
        if (shutting) {
            ctx_free(c);
            continue;
        }
        post(s, c->sig);
        handle(s, c);
    }
    return NULL;
}

/* Self-signed P-256 certificate for DNS:llmotlp.test (valid until 2126), for TLS tests only. */
static const char test_cert_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBnTCCAUSgAwIBAgIUKdD0Jlectsu0+gZB/GP5AkY+YA0wCgYIKoZIzj0EAwIw\n"
    "FzEVMBMGA1UEAwwMbGxtb3RscC50ZXN0MCAXDTI2MTEyNDAxNTAyNloYDzIxMjYx\n"
    "MDMxMDE1MDI2WjAXMRUwEwYDVQQDDAxsbG1vdGxwLnRlc3QwWTATBgcqhkjOPQIB\n"
    "BggqhkjOPQMBBwNCAARe4YnZNtYjLu1dpJcSEWfezrxaHtA/RKAn8epmol2S6Iuo\n"
    "LubGG/Wac6RB1FvMyWFctZT07BawIIcypkVbzNO5o2wwajAdBgNVHQ4EFgQUxuld\n"
    "T1WY5lLzABFpEdijTdeM+qUwHwYDVR0jBBgwFoAUxuldT1WY5lLzABFpEdijTdeM\n"
    "+qUwDwYDVR0TAQH/BAUwAwEB/zAXBgNVHREEEDAOggxsbG1vdGxwLnRlc3QwCgYI\n"
    "KoZIzj0EAwIDRwAwRAIgCptlo8g5+HdR0LK1IsbzRgEJeBv3+yntWWbM5Khl4K0C\n"
    "IEkeyZ+x/rZHUnfmGVZ3ut8J+AQCsmT6YLr6L8HwPzRU\n"
    "-----END CERTIFICATE-----\n";
static const char test_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgC3J0fOY+fq6yG7++\n"
    "L0h0Ci6YLOWvzkCHxgBcQ8EmWCChRANCAARe4YnZNtYjLu1dpJcSEWfezrxaHtA/\n"
    "RKAn8epmol2S6IuoLubGG/Wac6RB1FvMyWFctZT07BawIIcypkVbzNO5\n"
    "-----END PRIVATE KEY-----\n";

static struct server *server_start_ex(int port, bool gzip_enabled, bool tls);

/* port 0 picks a free port; gzip_enabled false makes the server refuse gzip-compressed calls. */
static struct server *server_start(int port, bool gzip_enabled)
{
    return server_start_ex(port, gzip_enabled, false);
}

static struct server *server_start_ex(int port, bool gzip_enabled, bool tls)
{
    struct server *s = calloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    grpc_arg args[1];
    size_t na = 0;
    if (!gzip_enabled)
        args[na++] = (grpc_arg){.type = GRPC_ARG_INTEGER,
                                .key = GRPC_COMPRESSION_CHANNEL_ENABLED_ALGORITHMS_BITSET,
                                .value.integer = 1 << GRPC_COMPRESS_NONE};
    grpc_channel_args ca = {.num_args = na, .args = args};
    s->srv = grpc_server_create(&ca, NULL);
    for (int i = 0; i < SIGNAL_COUNT; i++)
        s->method[i] = grpc_server_register_method(s->srv, methods[i], NULL,
                                                   GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0);
    s->cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(s->srv, s->cq, NULL);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    grpc_ssl_pem_key_cert_pair pair = {.private_key = test_key_pem, .cert_chain = test_cert_pem};
    grpc_server_credentials *cr =
        tls ? grpc_ssl_server_credentials_create_ex(NULL, &pair, 1,
                                                    GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE, NULL)
            : grpc_insecure_server_credentials_create();
    s->port = grpc_server_add_http2_port(s->srv, addr, cr);
    grpc_server_credentials_release(cr);
    assert_true(s->port > 0);
    grpc_server_start(s->srv);
    for (int i = 0; i < SIGNAL_COUNT; i++)
        for (int k = 0; k < 4; k++)
            post(s, i);
    pthread_create(&s->th, NULL, server_main, s);
    return s;
}

static void server_script(struct server *s, const struct action *a, int n)
{
    pthread_mutex_lock(&s->mu);
    memcpy(s->script, a, (size_t)n * sizeof *a);
    s->nscript = n;
    s->pos = 0;
    pthread_mutex_unlock(&s->mu);
}

static int server_count(struct server *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->nrec;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static void server_stop(struct server *s)
{
    grpc_server_shutdown_and_notify(s->srv, s->cq, &s->shutdown_tag);
    grpc_server_cancel_all_calls(s->srv);
    pthread_join(s->th, NULL);
    grpc_server_destroy(s->srv);
    grpc_completion_queue_destroy(s->cq);
    for (int i = 0; i < s->nrec; i++)
        free(s->rec[i].data);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

/* ---- exporter under test --------------------------------------------------------------------- */

static int exp_bind(struct tu_exp *e, const char *yaml, struct error *err)
{
    return tu_exp_bind(e, &otlp_exporter_factory, LABELS, yaml, err);
}

static struct otlp_exporter_config *cfg_of(struct tu_exp *e)
{
    return e->cfg;
}

static void exp_start_yaml(struct tu_exp *e, const char *yaml)
{
    tu_exp_start_yaml(e, &otlp_exporter_factory, "otlp/test", LABELS, yaml);
}

static void exp_start(struct tu_exp *e, const char *fmt, int port)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml, fmt, port);
    exp_start_yaml(e, yaml);
}

static struct batch *trace_batch(int nspans, uint8_t seed)
{
    return tu_trace_batch(nspans, seed, 0);
}

static void assert_same_bytes(struct batch *b, const struct request_rec *r)
{
    tu_assert_batch_bytes(b, r->data, r->len);
}

#define BASE_CFG                                                                                   \
    "endpoint: 127.0.0.1:%d\n"                                                                     \
    "tls: {insecure: true}\n"                                                                      \
    "headers: {X-Test-Header: hello-llmotlp}\n"                                                    \
    "retry_on_failure: {initial_interval: 10ms, max_interval: 40ms, max_elapsed_time: 0}\n"        \
    "sending_queue: {num_consumers: 2, queue_size: 10}\n"

/* ---- tests ----------------------------------------------------------------------------------- */

static void test_delivers_exact_bytes_with_headers(void **state)
{
    (void)state;
    struct server *s = server_start(0, true);
    struct tu_exp e;
    exp_start(&e, BASE_CFG, s->port);
    struct batch *t = trace_batch(5, 1);
    struct batch *l = tu_log_batch(3);
    assert_int_equal(otlp_exporter_factory.consume(e.x, t), CONSUME_OK);
    assert_int_equal(otlp_exporter_factory.consume(e.x, l), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_spans", 5);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_log_records", 3);
    tu_exp_stop(&e);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_send_failed_spans"), 0);
    tu_exp_free(&e);

    assert_int_equal(server_count(s), 2);
    for (int i = 0; i < 2; i++) {
        const struct request_rec *r = &s->rec[i];
        assert_string_equal(r->header, "hello-llmotlp");
        assert_same_bytes(r->sig == SIGNAL_TRACES ? t : l, r);
    }
    assert_true(s->rec[0].sig != s->rec[1].sig);
    batch_unref(t);
    batch_unref(l);
    server_stop(s);
}

static void test_unavailable_twice_then_ok(void **state)
{
    (void)state;
    struct server *s = server_start(0, true);
    struct action a[] = {{.code = GRPC_STATUS_UNAVAILABLE}, {.code = GRPC_STATUS_UNAVAILABLE}};
    server_script(s, a, 2);
    struct tu_exp e;
    exp_start(&e, BASE_CFG, s->port);
    struct batch *b = trace_batch(7, 2);
    assert_int_equal(otlp_exporter_factory.consume(e.x, b), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_spans", 7);
    tu_exp_stop(&e);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_send_failed_spans"), 0);
    tu_exp_free(&e);
    assert_int_equal(server_count(s), 3);
    int ok = 0;
    for (int i = 0; i < 3; i++) {
        assert_same_bytes(b, &s->rec[i]);
        ok += s->rec[i].answered == GRPC_STATUS_OK;
    }
    assert_int_equal(ok, 1);
    batch_unref(b);
    server_stop(s);
}

/* The backoff here (10 s ± 50%) would cross max_elapsed_time (2 s) and give up at once; only the
 * server's RetryInfo delay (50 ms) makes the second attempt happen. */
#define SLOW_RETRY_CFG                                                                             \
    "endpoint: 127.0.0.1:%d\n"                                                                     \
    "tls: {insecure: true}\n"                                                                      \
    "retry_on_failure: {initial_interval: 10s, max_interval: 10s, max_elapsed_time: 2s}\n"

static void test_retry_info_honoured(void **state)
{
    (void)state;
    struct server *s = server_start(0, true);
    struct action a[] = {{.code = GRPC_STATUS_UNAVAILABLE, .retry_delay_ms = 50},
                         {.code = GRPC_STATUS_RESOURCE_EXHAUSTED, .retry_delay_ms = 50}};
    server_script(s, a, 2);
    struct tu_exp e;
    exp_start(&e, SLOW_RETRY_CFG, s->port);
    struct batch *b = trace_batch(4, 3);
    assert_int_equal(otlp_exporter_factory.consume(e.x, b), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_spans", 4);
    tu_exp_stop(&e);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_send_failed_spans"), 0);
    tu_exp_free(&e);
    assert_int_equal(server_count(s), 3);
    batch_unref(b);
    server_stop(s);
}

/* Without RetryInfo, RESOURCE_EXHAUSTED is permanent; UNAVAILABLE without it falls back to the
 * backoff, which here gives up (it would pass max_elapsed_time). */
static void test_no_retry_info(void **state)
{
    (void)state;
    struct server *s = server_start(0, true);
    struct action a[] = {{.code = GRPC_STATUS_RESOURCE_EXHAUSTED},
                         {.code = GRPC_STATUS_UNAVAILABLE}};
    server_script(s, a, 2);
    struct tu_exp e;
    exp_start(&e, SLOW_RETRY_CFG, s->port);
    struct batch *b1 = trace_batch(2, 4);
    assert_int_equal(otlp_exporter_factory.consume(e.x, b1), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_send_failed_spans", 2);
    struct batch *b2 = trace_batch(3, 5);
    assert_int_equal(otlp_exporter_factory.consume(e.x, b2), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_send_failed_spans", 5);
    tu_exp_stop(&e);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_sent_spans"), 0);
    tu_exp_free(&e);
    assert_int_equal(server_count(s), 2);
    batch_unref(b1);
    batch_unref(b2);
    server_stop(s);
}

/* PERMISSION_DENIED: permanent and not about the data, so the whole batch fails, unsplit. */
static void test_permanent_not_retried(void **state)
{
    (void)state;
    struct server *s = server_start(0, true);
    struct action a[] = {{.code = GRPC_STATUS_PERMISSION_DENIED}};
    server_script(s, a, 1);
    struct tu_exp e;
    exp_start(&e, BASE_CFG, s->port);
    struct batch *b = tu_log_batch(6);
    assert_int_equal(otlp_exporter_factory.consume(e.x, b), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_send_failed_log_records", 6);
    /* give a wrongly scheduled retry the chance to show up before counting requests */
    tu_sleep_ms(100);
    tu_exp_stop(&e);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_sent_log_records"), 0);
    tu_exp_free(&e);
    assert_int_equal(server_count(s), 1);
    batch_unref(b);
    server_stop(s);
}

/* One resource of 40 spans "s<i>", two scopes; span `poison` (or none: -1) carries
 * poison=true. */
static struct batch *poison_batch(int first, int n, int poison)
{
    Opentelemetry__Proto__Trace__V1__Span sp[40];
    Opentelemetry__Proto__Trace__V1__Span *pp[2][40];
    char names[40][16];
    uint8_t tid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    uint8_t sid[40][8];
    Opentelemetry__Proto__Common__V1__AnyValue tv = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    tv.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
    tv.bool_value = true;
    Opentelemetry__Proto__Common__V1__KeyValue kv = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
    kv.key = "poison";
    kv.value = &tv;
    Opentelemetry__Proto__Common__V1__KeyValue *kvp = &kv;
    Opentelemetry__Proto__Trace__V1__ScopeSpans ss[2];
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ssp[2] = {&ss[0], &ss[1]};
    for (int k = 0; k < 2; k++) {
        opentelemetry__proto__trace__v1__scope_spans__init(&ss[k]);
        ss[k].spans = pp[k];
    }
    assert_true(n <= 40);
    for (int i = 0; i < n; i++) {
        opentelemetry__proto__trace__v1__span__init(&sp[i]);
        snprintf(names[i], sizeof names[i], "s%d", first + i);
        memset(sid[i], 0, 8);
        sid[i][0] = (uint8_t)(first + i + 1);
        sp[i].name = names[i];
        sp[i].trace_id = (ProtobufCBinaryData){16, tid};
        sp[i].span_id = (ProtobufCBinaryData){8, sid[i]};
        if (first + i == poison) {
            sp[i].n_attributes = 1;
            sp[i].attributes = &kvp;
        }
        ss[i % 2].spans[ss[i % 2].n_spans++] = &sp[i];
    }
    Opentelemetry__Proto__Trace__V1__ResourceSpans rs = OPENTELEMETRY__PROTO__TRACE__V1__RESOURCE_SPANS__INIT;
    rs.n_scope_spans = 2;
    rs.scope_spans = ssp;
    Opentelemetry__Proto__Trace__V1__ResourceSpans *rsp = &rs;
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest req =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
    req.n_resource_spans = 1;
    req.resource_spans = &rsp;
    return tu_pack_batch(SIGNAL_TRACES, &req.base);
}

/* INVALID_ARGUMENT is "the data is bad": the exporter's helper cuts the request until only the
 * poisoned span is refused; the other 39 arrive once each, in few calls. */
static void test_invalid_argument_poison_isolated(void **state)
{
    (void)state;
    struct server *s = server_start(0, true);
    s->poison = true;
    struct tu_exp e;
    exp_start(&e, BASE_CFG, s->port);
    struct batch *b = poison_batch(0, 40, 31);
    assert_int_equal(otlp_exporter_factory.consume(e.x, b), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_send_failed_spans", 1);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_spans", 39);
    tu_exp_stop(&e);
    tu_exp_free(&e);
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < 40; i++)
        assert_int_equal(s->got[i], i == 31 ? 0 : 1);
    pthread_mutex_unlock(&s->mu);
    assert_true(server_count(s) <= 1 + 2 * 6);
    batch_unref(b);
    server_stop(s);
}

static void test_partial_success(void **state)
{
    (void)state;
    struct server *s = server_start(0, true);
    struct action a[] = {{.code = GRPC_STATUS_OK, .partial_rejected = 2,
                          .partial_msg = "2 spans had an invalid trace_id"}};
    server_script(s, a, 1);
    struct tu_exp e;
    exp_start(&e, BASE_CFG, s->port);
    struct batch *b = trace_batch(9, 6);
    assert_int_equal(otlp_exporter_factory.consume(e.x, b), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_spans", 9);
    tu_sleep_ms(100);
    tu_exp_stop(&e);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_partial_rejected_spans"), 2);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_send_failed_spans"), 0);
    tu_exp_free(&e);
    assert_int_equal(server_count(s), 1);
    batch_unref(b);
    server_stop(s);
}

/* A server that has gzip disabled refuses a gzip-compressed call (UNIMPLEMENTED, permanent): so
 * the default config really compresses, and compression: none really does not. */
static void test_gzip_on_the_wire(void **state)
{
    (void)state;
    struct server *s = server_start(0, false);
    struct tu_exp e;
    exp_start(&e, BASE_CFG, s->port);
    struct batch *b = trace_batch(3, 7);
    assert_int_equal(otlp_exporter_factory.consume(e.x, b), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_send_failed_spans", 3);
    tu_exp_stop(&e);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_sent_spans"), 0);
    tu_exp_free(&e);
    assert_int_equal(server_count(s), 0); /* refused by the server's core, never handed over */

    exp_start(&e, BASE_CFG "compression: none\n", s->port);
    assert_int_equal(otlp_exporter_factory.consume(e.x, b), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_spans", 3);
    tu_exp_stop(&e);
    tu_exp_free(&e);
    assert_int_equal(server_count(s), 1);
    assert_same_bytes(b, &s->rec[0]);
    batch_unref(b);
    server_stop(s);
}

/* The server is down when the batches arrive and comes up later on the same port: every batch
 * is delivered, once. */
static void test_server_down_then_up(void **state)
{
    (void)state;
    struct server *s = server_start(0, true);
    int port = s->port;
    server_stop(s);
    struct tu_exp e;
    exp_start(&e,
              "endpoint: http://127.0.0.1:%d\n"
              "tls: {insecure: true}\n"
              "retry_on_failure: {initial_interval: 50ms, max_interval: 200ms, "
              "max_elapsed_time: 60s}\n",
              port);
    struct batch *b[3];
    for (int i = 0; i < 3; i++) {
        b[i] = trace_batch(2 + i, (uint8_t)(10 + i));
        assert_int_equal(otlp_exporter_factory.consume(e.x, b[i]), CONSUME_OK);
    }
    tu_sleep_ms(400);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_sent_spans"), 0);
    s = server_start(port, true);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_spans", 2 + 3 + 4);
    tu_exp_stop(&e);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_send_failed_spans"), 0);
    tu_exp_free(&e);
    assert_int_equal(server_count(s), 3);
    for (int i = 0; i < 3; i++) {
        int seen = 0;
        for (int k = 0; k < 3; k++) {
            const uint8_t *data;
            size_t len;
            assert_int_equal(batch_encoded(b[i], &data, &len, NULL), 0);
            seen += s->rec[k].len == len && memcmp(s->rec[k].data, data, len) == 0;
        }
        assert_int_equal(seen, 1);
        batch_unref(b[i]);
    }
    server_stop(s);
}

/* Shutdown with the server gone: the queued batch is counted as failed, not lost silently. */
static void test_shutdown_counts_undelivered(void **state)
{
    (void)state;
    struct server *s = server_start(0, true);
    int port = s->port;
    server_stop(s);
    struct tu_exp e;
    exp_start(&e, BASE_CFG, port);
    struct batch *b = trace_batch(8, 20);
    assert_int_equal(otlp_exporter_factory.consume(e.x, b), CONSUME_OK);
    otlp_exporter_factory.shutdown(e.x, clock_now_ns() + 200 * MS);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_send_failed_spans"), 8);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_sent_spans"), 0);
    assert_int_equal(otlp_exporter_factory.consume(e.x, b), CONSUME_RETRY);
    otlp_exporter_factory.destroy(e.x);
    tu_exp_unbind(&e);
    tu_exp_free(&e);
    batch_unref(b);
}

/* A server that takes the call and never answers, and no per-attempt timeout: only cancelling
 * the call in flight at the shutdown deadline lets shutdown return. The batch is counted. */
static void test_shutdown_cancels_call_in_flight(void **state)
{
    (void)state;
    struct server *s = server_start(0, true);
    struct action a[] = {{.hang = true}};
    server_script(s, a, 1);
    struct tu_exp e;
    exp_start(&e, BASE_CFG "timeout: 0s\n", s->port);
    struct batch *b = trace_batch(6, 30);
    assert_int_equal(otlp_exporter_factory.consume(e.x, b), CONSUME_OK);
    for (int i = 0; i < 2000 && server_count(s) < 1; i++)
        tu_sleep_ms(5);
    assert_int_equal(server_count(s), 1);
    otlp_exporter_factory.shutdown(e.x, clock_now_ns() + 100 * MS);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_send_failed_spans"), 6);
    assert_int_equal(tu_exp_value(&e, "otelcol_exporter_sent_spans"), 0);
    otlp_exporter_factory.destroy(e.x);
    tu_exp_unbind(&e);
    tu_exp_free(&e);
    batch_unref(b);
    server_stop(s);
}

/* One TLS client config against the TLS server: delivered or (retry disabled) failed once. */
static void tls_case(int port, const char *tls_yaml, bool want_sent)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "endpoint: 127.0.0.1:%d\n"
             "tls: %s\n"
             "retry_on_failure: {enabled: false}\n",
             port, tls_yaml);
    struct tu_exp e;
    exp_start_yaml(&e, yaml);
    struct batch *b = trace_batch(2, 40);
    assert_int_equal(otlp_exporter_factory.consume(e.x, b), CONSUME_OK);
    tu_exp_wait_counter(&e, want_sent ? "otelcol_exporter_sent_spans" : "otelcol_exporter_send_failed_spans",
                 2);
    tu_exp_stop(&e);
    assert_int_equal(tu_exp_value(&e, want_sent ? "otelcol_exporter_send_failed_spans"
                                         : "otelcol_exporter_sent_spans"),
                     0);
    tu_exp_free(&e);
    batch_unref(b);
}

static void test_tls(void **state)
{
    (void)state;
    char ca_path[] = "/tmp/llmotlp-test-ca-XXXXXX";
    int fd = mkstemp(ca_path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, test_cert_pem, strlen(test_cert_pem)), (ssize_t)strlen(test_cert_pem));
    close(fd);
    struct server *s = server_start_ex(0, true, true);
    char tls[512];

    /* verified against the given CA, under the certificate's name */
    snprintf(tls, sizeof tls, "{ca_file: %s, server_name_override: llmotlp.test}", ca_path);
    tls_case(s->port, tls, true);
    assert_int_equal(server_count(s), 1);
    /* not verified at all */
    tls_case(s->port, "{insecure_skip_verify: true}", true);
    assert_int_equal(server_count(s), 2);
    /* the default (TLS, system roots) rejects a self-signed certificate */
    tls_case(s->port, "{server_name_override: llmotlp.test}", false);
    /* the right CA but the wrong name */
    snprintf(tls, sizeof tls, "{ca_file: %s}", ca_path);
    tls_case(s->port, tls, false);
    /* plaintext against a TLS port */
    tls_case(s->port, "{insecure: true}", false);
    assert_int_equal(server_count(s), 2);
    server_stop(s);
    unlink(ca_path);
}

static void expect_invalid(const char *yaml, const char *needle)
{
    struct tu_exp e;
    struct error err;
    error_clear(&err);
    int rc = exp_bind(&e, yaml, &err);
    if (rc == 0)
        fail_msg("accepted: %s", yaml);
    if (!strstr(err.msg, needle))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
    tu_exp_unbind(&e);
}

/* `otlp_grpc` (the Collector's name since v0.144) is the same exporter as `otlp`: found in the
 * registry under both names, same fields, and an instance named otlp_grpc/backend delivers and
 * counts under the ID as written, so dashboards see the name the config uses. */
static void test_otlp_grpc_name(void **state)
{
    (void)state;
    const struct component_factory *f = component_find(COMPONENT_EXPORTER, "otlp_grpc");
    assert_ptr_equal(f, &otlp_grpc_exporter_factory);
    assert_ptr_equal(component_find(COMPONENT_EXPORTER, "otlp"), &otlp_exporter_factory);
    assert_ptr_equal(f->fields, otlp_exporter_fields);
    assert_ptr_equal(f->validate, otlp_exporter_factory.validate);

    struct server *s = server_start(0, true);
    struct tu_exp e;
    char yaml[2048];
    snprintf(yaml, sizeof yaml, BASE_CFG, s->port);
    tu_exp_start_yaml(&e, f, "otlp_grpc/backend", "exporter=\"otlp_grpc/backend\"", yaml);
    struct batch *t = trace_batch(4, 7);
    assert_int_equal(f->consume(e.x, t), CONSUME_OK);
    tu_exp_wait_counter(&e, "otelcol_exporter_sent_spans", 4);
    tu_exp_stop(&e);
    tu_exp_free(&e);
    assert_int_equal(server_count(s), 1);
    assert_string_equal(s->rec[0].header, "hello-llmotlp");
    assert_same_bytes(t, &s->rec[0]);
    batch_unref(t);
    server_stop(s);
}

static void test_config(void **state)
{
    (void)state;
    struct tu_exp e;
    struct error err;
    /* the Collector's defaults */
    assert_int_equal(exp_bind(&e, "endpoint: collector:4317\n", &err), 0);
    assert_false(cfg_of(&e)->tls.insecure);
    assert_string_equal(cfg_of(&e)->compression, "gzip");
    assert_int_equal(cfg_of(&e)->timeout, 5000 * MS);
    assert_true(cfg_of(&e)->retry_on_failure.enabled);
    assert_int_equal(cfg_of(&e)->retry_on_failure.initial_interval, 5000 * MS);
    assert_int_equal(cfg_of(&e)->retry_on_failure.max_interval, 30000 * MS);
    assert_int_equal(cfg_of(&e)->retry_on_failure.max_elapsed_time, 300000 * MS);
    assert_true(cfg_of(&e)->sending_queue.enabled);
    assert_int_equal(cfg_of(&e)->sending_queue.num_consumers, 10);
    assert_int_equal(cfg_of(&e)->sending_queue.queue_size, 1000);
    assert_int_equal(cfg_of(&e)->sending_queue.overflow_wait, 500 * MS);
    tu_exp_unbind(&e);

    /* a Collector config with keys we accept but do not act on still loads */
    assert_int_equal(exp_bind(&e,
                              "endpoint: https://collector:4317\n"
                              "tls: {insecure: false, min_version: \"1.2\"}\n"
                              "sending_queue: {sizer: requests, wait_for_result: false, "
                              "block_on_overflow: true, storage: file_storage/q}\n"
                              "keepalive: {time: 30s, timeout: 5s, permit_without_stream: true}\n"
                              "balancer_name: pick_first\nwait_for_ready: true\n",
                              &err),
                     0);
    assert_true(cfg_of(&e)->keepalive_present);
    assert_int_equal(cfg_of(&e)->keepalive.time, 30000 * MS);
    tu_exp_unbind(&e);

    expect_invalid("tls: {insecure: true}\n", "endpoint");
    expect_invalid("endpoint: c:4317\ncompression: zstd\n", "gzip");
    expect_invalid("endpoint: c:4317\ncompression: snappy\n", "snappy");
    /* auth binds here; the service resolves the ID (test_auth.c) */
    expect_invalid("endpoint: c:4317\nauth: {authenticatorr: oauth2client}\n", "authenticatorr");
    expect_invalid("endpoint: c:4317\nsending_queue: {sizer: parcels}\n", "sizer");
    expect_invalid("endpoint: c:4317\nretry_on_failure: {multiplier: -1}\n", "multiplier");
    expect_invalid("endpoint: c:4317\nheaders: {\"bad key\": x}\n", "headers");
    expect_invalid("endpoint: c:4317\ntls: {cert_file: a.pem}\n", "key");
    expect_invalid("endpoint: c:4317\nbogus: 1\n", "bogus");
    /* refused rather than ignored: the connection would not be what the config says */
    expect_invalid("endpoint: c:4317\nsending_queue: {wait_for_result: true}\n", "enabled: false");
    expect_invalid("endpoint: c:4317\ntls: {min_version: \"1.3\"}\n", "min_version");
    expect_invalid("endpoint: c:4317\ntls: {max_version: \"1.2\"}\n", "max_version");
    expect_invalid("endpoint: c:4317\ntls: {cipher_suites: [TLS_AES_128_GCM_SHA256]}\n",
                   "cipher_suites");
    expect_invalid("endpoint: c:4317\ntls: {curve_preferences: [X25519]}\n", "curve_preferences");
    expect_invalid("endpoint: c:4317\ntls: {reload_interval: 1m}\n", "reloading");

    bool tls;
    assert_string_equal(otlp_exporter_target("https://h:4317", &tls), "h:4317");
    assert_true(tls);
    assert_string_equal(otlp_exporter_target("http://h:4317", &tls), "h:4317");
    assert_false(tls);
    assert_string_equal(otlp_exporter_target("dns:///h:4317", &tls), "h:4317");
    assert_string_equal(otlp_exporter_target("h:4317", &tls), "h:4317");
}

int main(void)
{
    log_set_level(LOG_ERROR);
    grpc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_delivers_exact_bytes_with_headers),
        cmocka_unit_test(test_unavailable_twice_then_ok),
        cmocka_unit_test(test_retry_info_honoured),
        cmocka_unit_test(test_no_retry_info),
        cmocka_unit_test(test_permanent_not_retried),
        cmocka_unit_test(test_invalid_argument_poison_isolated),
        cmocka_unit_test(test_partial_success),
        cmocka_unit_test(test_gzip_on_the_wire),
        cmocka_unit_test(test_server_down_then_up),
        cmocka_unit_test(test_shutdown_counts_undelivered),
        cmocka_unit_test(test_shutdown_cancels_call_in_flight),
        cmocka_unit_test(test_tls),
        cmocka_unit_test(test_otlp_grpc_name),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    grpc_shutdown();
    return rc;
}
