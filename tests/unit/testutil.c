/* testutil.c — the shared test helpers declared in testutil.h.
 *
 * The one idea: builders lay out protobuf-c structs on the stack (or in short-lived arrays),
 * pack them once and hand back only bytes or a batch, so no protobuf-c memory outlives a call. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <ftw.h>
#include <sys/stat.h>
#include <curl/curl.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "core/service.h"
#include "tests/unit/testutil.h"

#define TU_MS 1000000LL

/* ---- request builders ------------------------------------------------------------------------ */

uint8_t *tu_pack(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *p = malloc(*len ? *len : 1);
    assert_non_null(p);
    assert_int_equal(protobuf_c_message_pack(m, p), *len);
    return p;
}

uint8_t *tu_make_traces(size_t n, size_t tid_len, const char *name, size_t *len)
{
    uint8_t tid[32], sid[8];
    assert_true(tid_len <= sizeof tid);
    for (size_t i = 0; i < sizeof tid; i++)
        tid[i] = (uint8_t)(i + 1);
    for (size_t i = 0; i < sizeof sid; i++)
        sid[i] = (uint8_t)(0xa0 + i);
    Opentelemetry__Proto__Trace__V1__Span *spans = calloc(n ? n : 1, sizeof *spans);
    Opentelemetry__Proto__Trace__V1__Span **sp = calloc(n ? n : 1, sizeof *sp);
    assert_non_null(spans);
    assert_non_null(sp);
    for (size_t i = 0; i < n; i++) {
        opentelemetry__proto__trace__v1__span__init(&spans[i]);
        spans[i].trace_id = (ProtobufCBinaryData){tid_len, tid};
        spans[i].span_id = (ProtobufCBinaryData){8, sid};
        spans[i].name = (char *)name;
        spans[i].start_time_unix_nano = 1000 + i;
        spans[i].end_time_unix_nano = 2000 + i;
        sp[i] = &spans[i];
    }
    Opentelemetry__Proto__Trace__V1__ScopeSpans ss = OPENTELEMETRY__PROTO__TRACE__V1__SCOPE_SPANS__INIT;
    ss.n_spans = n;
    ss.spans = sp;
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ssp = &ss;
    Opentelemetry__Proto__Trace__V1__ResourceSpans rs = OPENTELEMETRY__PROTO__TRACE__V1__RESOURCE_SPANS__INIT;
    rs.n_scope_spans = 1;
    rs.scope_spans = &ssp;
    Opentelemetry__Proto__Trace__V1__ResourceSpans *rsp = &rs;
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest req =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
    req.n_resource_spans = 1;
    req.resource_spans = &rsp;
    uint8_t *out = tu_pack(&req.base, len);
    free(spans);
    free(sp);
    return out;
}

uint8_t *tu_make_metrics(size_t npoints, size_t *len)
{
    Opentelemetry__Proto__Metrics__V1__NumberDataPoint *dp = calloc(npoints ? npoints : 1, sizeof *dp);
    Opentelemetry__Proto__Metrics__V1__NumberDataPoint **dpp = calloc(npoints ? npoints : 1, sizeof *dpp);
    assert_non_null(dp);
    assert_non_null(dpp);
    for (size_t i = 0; i < npoints; i++) {
        opentelemetry__proto__metrics__v1__number_data_point__init(&dp[i]);
        dp[i].time_unix_nano = 5000 + i;
        dp[i].value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
        dp[i].as_int = (int64_t)i * 7;
        dpp[i] = &dp[i];
    }
    Opentelemetry__Proto__Metrics__V1__Gauge g = OPENTELEMETRY__PROTO__METRICS__V1__GAUGE__INIT;
    g.n_data_points = npoints;
    g.data_points = dpp;
    Opentelemetry__Proto__Metrics__V1__Metric m = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__INIT;
    m.name = "llmproxy.tokens.input";
    m.data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
    m.gauge = &g;
    Opentelemetry__Proto__Metrics__V1__Metric *mp = &m;
    Opentelemetry__Proto__Metrics__V1__ScopeMetrics sm = OPENTELEMETRY__PROTO__METRICS__V1__SCOPE_METRICS__INIT;
    sm.n_metrics = 1;
    sm.metrics = &mp;
    Opentelemetry__Proto__Metrics__V1__ScopeMetrics *smp = &sm;
    Opentelemetry__Proto__Metrics__V1__ResourceMetrics rm =
        OPENTELEMETRY__PROTO__METRICS__V1__RESOURCE_METRICS__INIT;
    rm.n_scope_metrics = 1;
    rm.scope_metrics = &smp;
    Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rmp = &rm;
    Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest req =
        OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_REQUEST__INIT;
    req.n_resource_metrics = 1;
    req.resource_metrics = &rmp;
    uint8_t *out = tu_pack(&req.base, len);
    free(dp);
    free(dpp);
    return out;
}

uint8_t *tu_make_logs(size_t nrec, size_t *len)
{
    Opentelemetry__Proto__Common__V1__AnyValue body = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    body.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    body.string_value = "completion finished";
    Opentelemetry__Proto__Logs__V1__LogRecord *lr = calloc(nrec ? nrec : 1, sizeof *lr);
    Opentelemetry__Proto__Logs__V1__LogRecord **lrp = calloc(nrec ? nrec : 1, sizeof *lrp);
    assert_non_null(lr);
    assert_non_null(lrp);
    for (size_t i = 0; i < nrec; i++) {
        opentelemetry__proto__logs__v1__log_record__init(&lr[i]);
        lr[i].time_unix_nano = 9000 + i;
        lr[i].body = &body;
        lrp[i] = &lr[i];
    }
    Opentelemetry__Proto__Logs__V1__ScopeLogs sl = OPENTELEMETRY__PROTO__LOGS__V1__SCOPE_LOGS__INIT;
    sl.n_log_records = nrec;
    sl.log_records = lrp;
    Opentelemetry__Proto__Logs__V1__ScopeLogs *slp = &sl;
    Opentelemetry__Proto__Logs__V1__ResourceLogs rl = OPENTELEMETRY__PROTO__LOGS__V1__RESOURCE_LOGS__INIT;
    rl.n_scope_logs = 1;
    rl.scope_logs = &slp;
    Opentelemetry__Proto__Logs__V1__ResourceLogs *rlp = &rl;
    Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest req =
        OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_REQUEST__INIT;
    req.n_resource_logs = 1;
    req.resource_logs = &rlp;
    uint8_t *out = tu_pack(&req.base, len);
    free(lr);
    free(lrp);
    return out;
}

/* ---- batches --------------------------------------------------------------------------------- */

struct batch *tu_pack_batch(enum signal s, const ProtobufCMessage *m)
{
    size_t n;
    uint8_t *buf = tu_pack(m, &n);
    struct error err;
    struct batch *b = batch_from_wire(s, buf, n, &err);
    free(buf);
    if (!b)
        fail_msg("batch: %s", err.msg);
    return b;
}

struct batch *tu_trace_batch(int nspans, uint8_t seed, int kind)
{
    Opentelemetry__Proto__Trace__V1__Span spans[16], *sp[16];
    uint8_t ids[16][24];
    assert_true(nspans <= 16);
    for (int i = 0; i < nspans; i++) {
        opentelemetry__proto__trace__v1__span__init(&spans[i]);
        for (int k = 0; k < 24; k++)
            ids[i][k] = (uint8_t)(seed * 31 + i * 7 + k + 1);
        spans[i].trace_id.data = ids[i];
        spans[i].trace_id.len = 16;
        spans[i].span_id.data = ids[i] + 16;
        spans[i].span_id.len = 8;
        spans[i].name = "chat gpt-4o";
        spans[i].kind = (Opentelemetry__Proto__Trace__V1__Span__SpanKind)kind;
        spans[i].start_time_unix_nano = 1700000000000000000ULL + (uint64_t)i;
        spans[i].end_time_unix_nano = 1700000000500000000ULL + (uint64_t)i;
        sp[i] = &spans[i];
    }
    Opentelemetry__Proto__Trace__V1__ScopeSpans ss = OPENTELEMETRY__PROTO__TRACE__V1__SCOPE_SPANS__INIT;
    ss.n_spans = (size_t)nspans;
    ss.spans = sp;
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ssp = &ss;
    Opentelemetry__Proto__Trace__V1__ResourceSpans rs =
        OPENTELEMETRY__PROTO__TRACE__V1__RESOURCE_SPANS__INIT;
    rs.n_scope_spans = 1;
    rs.scope_spans = &ssp;
    Opentelemetry__Proto__Trace__V1__ResourceSpans *rsp = &rs;
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest req =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
    req.n_resource_spans = 1;
    req.resource_spans = &rsp;
    struct batch *b = tu_pack_batch(SIGNAL_TRACES, &req.base);
    assert_int_equal(b->items, (uint64_t)nspans);
    return b;
}

struct batch *tu_log_batch(int nrecords)
{
    Opentelemetry__Proto__Logs__V1__LogRecord recs[8], *rp[8];
    Opentelemetry__Proto__Common__V1__AnyValue body[8];
    assert_true(nrecords <= 8);
    for (int i = 0; i < nrecords; i++) {
        opentelemetry__proto__logs__v1__log_record__init(&recs[i]);
        opentelemetry__proto__common__v1__any_value__init(&body[i]);
        body[i].value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
        body[i].string_value = "request done";
        recs[i].body = &body[i];
        recs[i].time_unix_nano = 1700000000000000000ULL + (uint64_t)i;
        rp[i] = &recs[i];
    }
    Opentelemetry__Proto__Logs__V1__ScopeLogs sl = OPENTELEMETRY__PROTO__LOGS__V1__SCOPE_LOGS__INIT;
    sl.n_log_records = (size_t)nrecords;
    sl.log_records = rp;
    Opentelemetry__Proto__Logs__V1__ScopeLogs *slp = &sl;
    Opentelemetry__Proto__Logs__V1__ResourceLogs rl = OPENTELEMETRY__PROTO__LOGS__V1__RESOURCE_LOGS__INIT;
    rl.n_scope_logs = 1;
    rl.scope_logs = &slp;
    Opentelemetry__Proto__Logs__V1__ResourceLogs *rlp = &rl;
    Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest req =
        OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_REQUEST__INIT;
    req.n_resource_logs = 1;
    req.resource_logs = &rlp;
    struct batch *b = tu_pack_batch(SIGNAL_LOGS, &req.base);
    assert_int_equal(b->items, (uint64_t)nrecords);
    return b;
}

struct batch *tu_metric_batch(int npoints)
{
    Opentelemetry__Proto__Metrics__V1__NumberDataPoint dps[8], *dpp[8];
    assert_true(npoints <= 8);
    for (int i = 0; i < npoints; i++) {
        opentelemetry__proto__metrics__v1__number_data_point__init(&dps[i]);
        dps[i].value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
        dps[i].as_double = 0.25 * (i + 1);
        dps[i].time_unix_nano = 1700000000000000000ULL + (uint64_t)i;
        dpp[i] = &dps[i];
    }
    Opentelemetry__Proto__Metrics__V1__Gauge g = OPENTELEMETRY__PROTO__METRICS__V1__GAUGE__INIT;
    g.n_data_points = (size_t)npoints;
    g.data_points = dpp;
    Opentelemetry__Proto__Metrics__V1__Metric m = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__INIT;
    m.name = "gen_ai.client.token.usage";
    m.data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
    m.gauge = &g;
    Opentelemetry__Proto__Metrics__V1__Metric *mp = &m;
    Opentelemetry__Proto__Metrics__V1__ScopeMetrics sm =
        OPENTELEMETRY__PROTO__METRICS__V1__SCOPE_METRICS__INIT;
    sm.n_metrics = 1;
    sm.metrics = &mp;
    Opentelemetry__Proto__Metrics__V1__ScopeMetrics *smp = &sm;
    Opentelemetry__Proto__Metrics__V1__ResourceMetrics rm =
        OPENTELEMETRY__PROTO__METRICS__V1__RESOURCE_METRICS__INIT;
    rm.n_scope_metrics = 1;
    rm.scope_metrics = &smp;
    Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rmp = &rm;
    Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest req =
        OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_REQUEST__INIT;
    req.n_resource_metrics = 1;
    req.resource_metrics = &rmp;
    struct batch *b = tu_pack_batch(SIGNAL_METRICS, &req.base);
    assert_int_equal(b->items, (uint64_t)npoints);
    return b;
}

void tu_assert_batch_bytes(struct batch *b, const uint8_t *got, size_t got_len)
{
    const uint8_t *data;
    size_t len;
    struct error err;
    assert_int_equal(batch_encoded(b, &data, &len, &err), 0);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, data, len);
}

/* ---- recording consumer ---------------------------------------------------------------------- */

static enum consume_status tu_rec_consume(struct consumer *c, struct batch *b)
{
    struct tu_rec *r = (struct tu_rec *)c;
    const uint8_t *d;
    size_t len;
    struct error err;
    pthread_mutex_lock(&r->mu);
    r->calls++;
    r->items += b->items;
    r->last_signal = b->signal;
    if (batch_encoded(b, &d, &len, &err) != 0) {
        r->bad++;
    } else {
        free(r->last);
        r->last = malloc(len ? len : 1);
        memcpy(r->last, d, len);
        r->last_len = len;
    }
    if (r->reject_n || r->reject_why)
        batch_reject(b, r->reject_n, r->reject_why);
    if (r->block) {
        r->entered = true;
        pthread_cond_broadcast(&r->cv);
        while (!r->release)
            pthread_cond_wait(&r->cv, &r->mu);
    }
    enum consume_status a = r->answer;
    pthread_mutex_unlock(&r->mu);
    return a;
}

void tu_rec_init(struct tu_rec *r)
{
    memset(r, 0, sizeof *r);
    r->base.consume = tu_rec_consume;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->answer = CONSUME_OK;
}

void tu_rec_fini(struct tu_rec *r)
{
    free(r->last);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
}

/* ---- exporter fixture ------------------------------------------------------------------------ */

static Opentelemetry__Proto__Common__V1__KeyValue *kv_new(struct arena *a, const char *key)
{
    Opentelemetry__Proto__Common__V1__KeyValue *kv = arena_alloc(a, sizeof *kv);
    Opentelemetry__Proto__Common__V1__AnyValue *v = arena_alloc(a, sizeof *v);
    assert_non_null(kv);
    assert_non_null(v);
    opentelemetry__proto__common__v1__key_value__init(kv);
    opentelemetry__proto__common__v1__any_value__init(v);
    kv->key = arena_strdup(a, key);
    kv->value = v;
    return kv;
}

Opentelemetry__Proto__Common__V1__KeyValue *tu_kv_str(struct arena *a, const char *key,
                                                     const char *v)
{
    Opentelemetry__Proto__Common__V1__KeyValue *kv = kv_new(a, key);
    kv->value->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    kv->value->string_value = arena_strdup(a, v);
    return kv;
}

Opentelemetry__Proto__Common__V1__KeyValue *tu_kv_int(struct arena *a, const char *key, int64_t v)
{
    Opentelemetry__Proto__Common__V1__KeyValue *kv = kv_new(a, key);
    kv->value->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
    kv->value->int_value = v;
    return kv;
}

int tu_proc_open(struct tu_proc *p, const struct component_factory *f, const char *yaml,
                 const char *file, const char *section, const char *id, const char *log_name,
                 enum signal s, struct error *err)
{
    memset(p, 0, sizeof *p);
    p->f = f;
    tu_rec_init(&p->rec);
    p->tel = telemetry_new();
    p->root = config_parse_string(yaml, file, err);
    assert_non_null(p->root);
    p->cfg = calloc(1, f->config_size);
    assert_non_null(p->cfg);
    if (config_bind(f->fields, section ? cnode_get(p->root, section) : p->root, p->cfg, err) != 0)
        return -1;
    if (f->validate && f->validate(p->cfg, err) != 0)
        return -1;
    struct component_env env = {.id = id, .log_name = log_name, .signal = s,
                                .telemetry = p->tel};
    env.next[s] = &p->rec.base;
    p->proc = f->create(p->cfg, &env, err);
    return p->proc ? 0 : -1;
}

void tu_proc_close(struct tu_proc *p)
{
    if (p->proc)
        p->f->destroy(p->proc);
    config_free_bound(p->f->fields, p->cfg);
    free(p->cfg);
    cnode_free(p->root);
    tu_rec_fini(&p->rec);
    telemetry_free(p->tel);
}

int tu_exp_bind(struct tu_exp *e, const struct component_factory *f, const char *labels,
                const char *yaml, struct error *err)
{
    memset(e, 0, sizeof *e);
    e->f = f;
    e->labels = labels;
    e->cfg = calloc(1, f->config_size);
    assert_non_null(e->cfg);
    e->tree = config_parse_string(yaml, "test.yaml", err);
    if (!e->tree)
        return -1;
    if (config_bind(f->fields, e->tree, e->cfg, err) != 0)
        return -1;
    return f->validate(e->cfg, err);
}

void tu_exp_unbind(struct tu_exp *e)
{
    config_free_bound(e->f->fields, e->cfg);
    cnode_free(e->tree);
    free(e->cfg);
    e->cfg = NULL;
}

void tu_exp_start_yaml(struct tu_exp *e, const struct component_factory *f, const char *id,
                       const char *labels, const char *yaml)
{
    struct error err;
    if (tu_exp_bind(e, f, labels, yaml, &err) != 0)
        fail_msg("config: %s", err.msg);
    e->t = telemetry_new();
    snprintf(e->log_name, sizeof e->log_name, "exporter/%s", id);
    struct component_env env = {.id = id, .log_name = e->log_name, .telemetry = e->t};
    e->x = f->create(e->cfg, &env, &err);
    if (!e->x)
        fail_msg("create: %s", err.msg);
    assert_int_equal(f->start(e->x, &err), 0);
}

void tu_exp_stop(struct tu_exp *e)
{
    e->f->shutdown(e->x, clock_now_ns() + 2000 * TU_MS);
    e->f->destroy(e->x);
    tu_exp_unbind(e);
}

void tu_exp_free(struct tu_exp *e)
{
    telemetry_free(e->t);
}

int64_t tu_exp_value(struct tu_exp *e, const char *name)
{
    return telemetry_value(e->t, name, e->labels);
}

void tu_exp_wait_counter(struct tu_exp *e, const char *name, int64_t want)
{
    for (int i = 0; i < 3000 && tu_exp_value(e, name) < want; i++)
        tu_sleep_ms(5);
    assert_int_equal(tu_exp_value(e, name), want);
}

/* ---- small helpers --------------------------------------------------------------------------- */

void tu_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Self-signed for CN/SAN localhost, valid until 2126; test use only. */
const char tu_test_cert_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBlDCCATugAwIBAgIUGKCvvcAbgt4VXKnWAeC5YdWVBnMwCgYIKoZIzj0EAwIw\n"
    "FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyNDAxNDczNFoYDzIxMjYxMDMx\n"
    "MDE0NzM0WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO\n"
    "PQMBBwNCAAT2iO7ew2XJRyjqFkV71HFIuNMsUsTpDhka/bEtyresK5MpwVqBmsF6\n"
    "yp6VYX2Cqe3gxQsyVAGfND8OsTKFSVklo2kwZzAdBgNVHQ4EFgQUTr/PHKxevSz3\n"
    "ZK5Cv0S4s3/TXKMwHwYDVR0jBBgwFoAUTr/PHKxevSz3ZK5Cv0S4s3/TXKMwDwYD\n"
    "VR0TAQH/BAUwAwEB/zAUBgNVHREEDTALgglsb2NhbGhvc3QwCgYIKoZIzj0EAwID\n"
    "RwAwRAIgfBLCODuXZo3bB90VSqnwsRZ62lma58P1v/3v+nb8y84CIEAFS/21wqI8\n"
    "v8rOK8XnJgzVABiMqwiieQhyabgwJv92\n"
    "-----END CERTIFICATE-----\n";
const char tu_test_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg05+8eXFMrPyU8rR/\n"
    "XKjjgm1vTW0M/2BNTzykScFRihChRANCAAT2iO7ew2XJRyjqFkV71HFIuNMsUsTp\n"
    "Dhka/bEtyresK5MpwVqBmsF6yp6VYX2Cqe3gxQsyVAGfND8OsTKFSVkl\n"
    "-----END PRIVATE KEY-----\n";

void tu_write_temp(char *path, const char *text)
{
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/* ---- certificates made by openssl ------------------------------------------------------------ */

void tu_sh(const char *dir, const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char full[2300];
    snprintf(full, sizeof full, "set -e; cd %s; %s >/dev/null 2>&1", dir, cmd);
    assert_int_equal(system(full), 0);
}

char *tu_path(const char *dir, const char *name)
{
    static char p[64][160];
    static int i;
    i = (i + 1) % 64;
    snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
    return p[i];
}

#define TU_EC_KEY "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"

void tu_make_ca(const char *dir, const char *ca)
{
    tu_sh(dir, "openssl req -x509 " TU_EC_KEY " -days 2 -subj /CN=%s -keyout %s.key -out %s.pem",
          ca, ca, ca);
}

void tu_make_leaf(const char *dir, const char *name, const char *ca)
{
    tu_sh(dir, "openssl req " TU_EC_KEY " -subj /CN=%s.test -keyout %s.key -out %s.csr; "
          "openssl x509 -req -in %s.csr -CA %s.pem -CAkey %s.key -CAcreateserial -days 2 "
          "-out %s.pem", name, name, name, name, ca, ca, name);
}

void tu_make_localhost(const char *dir, const char *name, const char *ca)
{
    tu_sh(dir, "openssl req " TU_EC_KEY " -subj /CN=localhost -keyout %s.key -out %s.csr; "
          "printf 'subjectAltName=DNS:localhost\\n' > %s.ext; "
          "openssl x509 -req -in %s.csr -CA %s.pem -CAkey %s.key -CAcreateserial -days 2 "
          "-extfile %s.ext -out %s.pem", name, name, name, name, ca, ca, name, name);
}

/* ---- HTTP GET ------------------------------------------------------------------------------ */

static size_t http_collect(char *p, size_t size, size_t n, void *ud)
{
    struct tu_http_reply *r = ud;
    size_t len = size * n;
    char *body = realloc(r->body, r->len + len + 1);
    assert_non_null(body);
    r->body = body;
    memcpy(r->body + r->len, p, len);
    r->len += len;
    r->body[r->len] = '\0';
    return len;
}

struct tu_http_reply tu_http_get(uint16_t port, const char *path)
{
    struct tu_http_reply r = {0};
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)port, path);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
        char *ct = NULL;
        curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
        if (ct)
            snprintf(r.content_type, sizeof r.content_type, "%s", ct);
    }
    curl_easy_cleanup(c);
    if (!r.body)
        r.body = calloc(1, 1);
    assert_non_null(r.body);
    return r;
}

void tu_http_reply_free(struct tu_http_reply *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

/* ---- file_storage on a temporary directory ---- */

void tu_store_open(struct tu_store *st, const char *extra_yaml)
{
    memset(st, 0, sizeof *st);
    snprintf(st->dir, sizeof st->dir, "/tmp/llmotlp-pq-XXXXXX");
    assert_non_null(mkdtemp(st->dir));
    char yaml[512];
    snprintf(yaml, sizeof yaml, "directory: %s\n%s", st->dir, extra_yaml ? extra_yaml : "");
    struct error err = {0};
    st->tree = config_parse_string(yaml, "storage.yaml", &err);
    assert_non_null(st->tree);
    st->f = component_find(COMPONENT_EXTENSION, "file_storage");
    assert_non_null(st->f);
    st->cfg = calloc(1, st->f->config_size);
    if (config_bind(st->f->fields, st->tree, st->cfg, &err) != 0 || st->f->validate(st->cfg, &err))
        fail_msg("file_storage config: %s", err.msg);
    struct component_env env = {.id = "file_storage", .log_name = "extension/file_storage"};
    st->fs = st->f->create(st->cfg, &env, &err);
    assert_non_null(st->fs);
    if (st->f->start(st->fs, &err) != 0)
        fail_msg("file_storage start: %s", err.msg);
}

static int tu_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void tu_store_close(struct tu_store *st)
{
    st->f->destroy(st->fs);
    config_free_bound(st->f->fields, st->cfg);
    free(st->cfg);
    cnode_free(st->tree);
    nftw(st->dir, tu_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void tu_load_fails(const char *yaml, const char *frag)
{
    struct error err = {0};
    struct service *s = service_load_string(yaml, &err);
    if (s) {
        service_free(s);
        fail_msg("config should be rejected:\n%s", yaml);
    }
    if (!strstr(err.msg, frag))
        fail_msg("error \"%s\" lacks \"%s\"", err.msg, frag);
}
