/* otlp_exporter.c — the `otlp` exporter: one unary gRPC Export call per batch, through gRPC core.
 *
 * The one idea: the request body is the batch's encoded face handed to gRPC as a zero-copy slice
 * that holds a batch reference, so an untouched batch leaves as the bytes that arrived — never
 * decoded, never re-encoded, never copied. Everything else (queue, retry, counters) is the shared
 * exporter_helper; this file only maps a call's outcome to the OTLP retry table: retryable codes,
 * RESOURCE_EXHAUSTED only with RetryInfo, the server's RetryInfo delay as the throttle,
 * INVALID_ARGUMENT as "the data is bad" (SEND_REJECTED: the helper cuts the request down to the
 * items the server refuses; other permanent codes fail the whole request), and partial success
 * as delivered-with-a-warning (counted, never resent). */
#include "exporters/otlp/otlp_exporter.h"

#include <ctype.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/status.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/grpc_common.h"
#include "core/log.h"
#include "core/telemetry.h"
#include "google/rpc/status.pb-c.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

/* ---- config ---------------------------------------------------------------------------------- */

#define KA_OFF(f) offsetof(struct otlp_keepalive_config, f)
static const struct config_field keepalive_fields[] = {
    {.name = "time", .type = CFG_DURATION, .offset = KA_OFF(time),
     .doc = "ping the server after this long without activity (0 = gRPC default)"},
    {.name = "timeout", .type = CFG_DURATION, .offset = KA_OFF(timeout),
     .doc = "close the connection when a ping is not answered within this"},
    {.name = "permit_without_stream", .type = CFG_BOOL, .offset = KA_OFF(permit_without_stream),
     .def = "false", .doc = "ping even when no call is in flight"},
    {.name = NULL},
};

#define CFG_OFF(f) offsetof(struct otlp_exporter_config, f)
/* One table, two uses: the otlp exporter itself (endpoint required) and the template that
 * routing exporters bind (`loadbalancing`'s protocol.otlp: the resolver gives the endpoint). */
#define OTLP_EXPORTER_FIELDS(REQ, NOEFF)                                                          \
    {.name = "endpoint", .type = CFG_STRING, .offset = CFG_OFF(endpoint),                         \
     .required = (REQ), .no_effect = (NOEFF),                                                     \
     .doc = "host:port of the OTLP/gRPC server; http://, https:// (forces TLS) and dns:/// "      \
            "prefixes are accepted"},                                                             \
    {.name = "tls", .type = CFG_SECTION, .offset = CFG_OFF(tls), .sub = tls_client_fields,        \
     .doc = "TLS settings; TLS is on unless insecure: true"},                                     \
    {.name = "headers", .type = CFG_STRING_MAP, .offset = CFG_OFF(headers),                       \
     .doc = "metadata sent with every call (keys lowercased)", .secret = true},                   \
    {.name = "compression", .type = CFG_STRING, .offset = CFG_OFF(compression), .def = "gzip",    \
     .doc = "gzip or none (snappy and zstd are not available in gRPC core)"},                     \
    {.name = "timeout", .type = CFG_DURATION, .offset = CFG_OFF(timeout), .def = "5s",            \
     .doc = "deadline of each attempt"},                                                          \
    {.name = "retry_on_failure", .type = CFG_SECTION, .offset = CFG_OFF(retry_on_failure),        \
     .sub = retry_config_fields, .doc = "retry with exponential backoff"},                        \
    {.name = "sending_queue", .type = CFG_SECTION, .offset = CFG_OFF(sending_queue),              \
     .sub = queue_config_fields,                                                                  \
     .doc = "queue drained by consumer threads (on disk with storage, merged with batch); a "     \
            "request refused with INVALID_ARGUMENT is cut down to the items the server refuses, " \
            "only those are dropped"},                                                            \
    {.name = "keepalive", .type = CFG_PRESENCE, .offset = CFG_OFF(keepalive),                     \
     .present_offset = CFG_OFF(keepalive_present), .sub = keepalive_fields,                       \
     .doc = "HTTP/2 keepalive pings"},                                                            \
    {.name = "balancer_name", .type = CFG_STRING, .offset = CFG_OFF(balancer_name),               \
     .def = "round_robin", .doc = "load balancing policy: round_robin or pick_first"},            \
    {.name = "authority", .type = CFG_STRING, .offset = CFG_OFF(authority),                       \
     .doc = "value of the :authority header"},                                                    \
    {.name = "wait_for_ready", .type = CFG_BOOL, .offset = CFG_OFF(wait_for_ready),               \
     .def = "false", .doc = "wait for the connection to be ready (up to timeout) instead of "     \
                            "failing fast"},                                                      \
    {.name = "write_buffer_size", .type = CFG_INT, .offset = CFG_OFF(write_buffer_size),          \
     .def = "524288", .doc = "HTTP/2 write buffer in bytes (0 = gRPC default)", .min = 0,         \
     .max = INT32_MAX},                                                                           \
    {.name = "read_buffer_size", .type = CFG_INT, .offset = CFG_OFF(read_buffer_size),            \
     .doc = "TCP read chunk in bytes (0 = gRPC default)", .min = 0, .max = INT32_MAX},            \
    {.name = "auth", .type = CFG_PRESENCE, .offset = CFG_OFF(auth),                               \
     .present_offset = CFG_OFF(has_auth), .sub = auth_config_fields,                              \
     .doc = "authenticator extension whose header every call carries (bearertokenauth, "          \
            "basicauth with client_auth); wins over a header of the same name"},                  \
    {.name = "middlewares", .type = CFG_RAW, .offset = CFG_OFF(middlewares),                      \
     .doc = "middleware extensions; not supported"},                                              \
    {.name = NULL}

const struct config_field otlp_exporter_fields[] = {OTLP_EXPORTER_FIELDS(true, NULL)};
const struct config_field otlp_exporter_template_fields[] = {
    OTLP_EXPORTER_FIELDS(false, "each backend's endpoint comes from the resolver")};

const char *otlp_exporter_target(const char *endpoint, bool *tls_forced)
{
    *tls_forced = false;
    if (strncmp(endpoint, "http://", 7) == 0)
        return endpoint + 7;
    if (strncmp(endpoint, "https://", 8) == 0) {
        *tls_forced = true;
        return endpoint + 8;
    }
    if (strncmp(endpoint, "dns:", 4) == 0) {
        const char *p = endpoint + 4;
        for (int i = 0; i < 3 && *p == '/'; i++)
            p++;
        return p;
    }
    return endpoint;
}

/* Configured headers plus the authenticator's, per call (more headers are refused with auth). */
#define AUTH_MD_MAX 64

static bool raw_is_set(const struct cnode *n)
{
    return n && n->kind != CNODE_NULL;
}

/* gRPC core rejects (at call time) metadata keys outside [a-z0-9-_.] and values with
 * non-printable bytes, so a bad header fails the config instead of every call. */
static int check_header(const char *key, const char *value, struct error *err)
{
    if (!key[0])
        return error_set(err, "headers: empty key");
    for (const char *p = key; *p; p++) {
        char c = (char)tolower((unsigned char)*p);
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
            return error_set(err, "headers: key \"%s\" has a character not allowed in gRPC "
                                  "metadata ('%c')", key, *p);
    }
    if (strncmp(key, "grpc-", 5) == 0 || key[0] == ':')
        return error_set(err, "headers: key \"%s\" is reserved by gRPC", key);
    size_t kl = strlen(key);
    bool bin = kl > 4 && strcmp(key + kl - 4, "-bin") == 0;
    if (!bin)
        for (const char *p = value ? value : ""; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
                return error_set(err, "headers: value of \"%s\" has a non-printable character",
                                 key);
    return 0;
}

static int otlp_validate(const void *cfgp, struct error *err)
{
    const struct otlp_exporter_config *c = cfgp;
    bool tls_forced;
    if (!c->endpoint || !*otlp_exporter_target(c->endpoint, &tls_forced))
        return error_set(err, "endpoint: must be set (host:port of the OTLP/gRPC server)");
    const char *comp = c->compression ? c->compression : "";
    if (strcmp(comp, "snappy") == 0 || strcmp(comp, "zstd") == 0)
        return error_set(err, "compression: \"%s\" is not available with gRPC core 1.51 (it can "
                              "only produce gzip); use gzip or none", comp);
    if (strcmp(comp, "gzip") != 0 && strcmp(comp, "none") != 0 && comp[0])
        return error_set(err, "compression: unknown value \"%s\"; expected gzip or none", comp);
    if (c->timeout < 0)
        return error_set(err, "timeout: must not be negative");
    if (raw_is_set(c->middlewares))
        return error_set(err, "middlewares: middleware extensions are not supported");
    const char *bal = c->balancer_name ? c->balancer_name : "";
    if (bal[0] && strcmp(bal, "round_robin") != 0 && strcmp(bal, "pick_first") != 0)
        return error_set(err, "balancer_name: unknown policy \"%s\"; expected round_robin or "
                              "pick_first", bal);
    if (tls_client_validate(&c->tls, "tls", err) != 0)
        return -1;
    /* Refused, not ignored: a config that names a stricter TLS than the connection gets would
     * look safer than it is. gRPC core's channel credentials negotiate TLS 1.2 to 1.3 with its
     * own cipher and curve lists, and load certificates once. */
    const struct tls_config *b = &c->tls.base;
    if (b->min_version && *b->min_version && strcmp(b->min_version, "1.2") != 0)
        return error_set(err, "tls.min_version: \"%s\" is not supported (gRPC core negotiates "
                              "TLS 1.2 or 1.3; use 1.2)", b->min_version);
    if (b->max_version && *b->max_version && strcmp(b->max_version, "1.3") != 0)
        return error_set(err, "tls.max_version: \"%s\" is not supported (use 1.3 or leave "
                              "empty)", b->max_version);
    if (b->cipher_suites.n)
        return error_set(err, "tls.cipher_suites: not supported by gRPC core; leave empty");
    if (b->curve_preferences.n)
        return error_set(err, "tls.curve_preferences: not supported by gRPC core; leave empty");
    if (b->reload_interval)
        return error_set(err, "tls.reload_interval: certificate reloading is not supported");
    for (size_t i = 0; i < c->headers.n; i++)
        if (check_header(c->headers.items[i].key, c->headers.items[i].value, err) != 0)
            return -1;
    if (c->has_auth && c->headers.n >= AUTH_MD_MAX)
        return error_set(err, "headers: at most %d headers together with auth", AUTH_MD_MAX - 1);
    return exporter_helper_validate(&c->retry_on_failure, &c->sending_queue, err);
}

/* A token over plaintext is what `headers: {authorization: ...}` does too; the Collector's gRPC
 * client refuses the combination at call time, so it is said here rather than silently done. */
static void otlp_warn(const void *cfgp, const struct cnode *node, const struct config_warn_sink *w)
{
    const struct otlp_exporter_config *c = cfgp;
    bool tls_forced = false;
    if (c->endpoint)
        otlp_exporter_target(c->endpoint, &tls_forced);
    if (c->has_auth && c->tls.insecure && !tls_forced)
        config_warnf(w, cnode_find_key(node, "auth"), "auth",
                     "credentials are sent in plaintext (tls.insecure is true); the Collector "
                     "refuses per-call credentials without TLS");
    /* Said here rather than logged at create, so that validate shows it too. */
    if (c->tls.insecure_skip_verify && (!c->tls.insecure || tls_forced))
        config_warnf(w, cnode_find_key(node, "tls.insecure_skip_verify"),
                     "tls.insecure_skip_verify", "true: the server is not authenticated");
}

/* ---- instance -------------------------------------------------------------------------------- */

/* A call in flight, linked while send() waits for it so shutdown can cancel it. */
struct active_call {
    grpc_call *call;
    struct active_call *next, *prev;
};

struct otlp_exporter {
    const struct otlp_exporter_config *cfg;
    pthread_mutex_t calls_mu;
    pthread_cond_t calls_cv;          /* wakes the deadline watcher early */
    struct active_call *calls;
    bool cancel_all;                  /* deadline passed: cancel calls at once */
    bool helper_done;
    char *log_name;
    grpc_channel *channel;
    void *method[SIGNAL_COUNT];       /* registered call handles */
    grpc_metadata *md;
    size_t nmd;
    struct exporter_helper *helper;
    _Atomic int64_t shutdown_deadline; /* 0 until shutdown: caps each attempt's deadline */
};

static grpc_channel_credentials *make_credentials(const struct otlp_exporter *x, bool tls_forced,
                                                  struct error *err)
{
    const struct tls_client_config *t = &x->cfg->tls;
    const struct tls_config *b = &t->base;
    if (t->insecure && !tls_forced)
        return grpc_insecure_credentials_create();
    char *ca = tls_pem(b->ca_pem, b->ca_file, err);
    if (!ca && err->msg[0])
        return NULL;
    char *cert = tls_pem(b->cert_pem, b->cert_file, err);
    if (!cert && err->msg[0]) {
        free(ca);
        return NULL;
    }
    char *key = tls_pem(b->key_pem, b->key_file, err);
    if (!key && err->msg[0]) {
        free(ca);
        free(cert);
        return NULL;
    }
    grpc_channel_credentials *creds;
    if (t->insecure_skip_verify) {
        /* Only the TLS-options API can turn server verification off. */
        grpc_tls_credentials_options *o = grpc_tls_credentials_options_create();
        grpc_tls_identity_pairs *pairs = NULL;
        if (cert && key) {
            pairs = grpc_tls_identity_pairs_create();
            grpc_tls_identity_pairs_add_pair(pairs, key, cert);
        }
        if (ca || pairs) {
            grpc_tls_certificate_provider *p =
                grpc_tls_certificate_provider_static_data_create(ca, pairs);
            grpc_tls_credentials_options_set_certificate_provider(o, p);
            grpc_tls_certificate_provider_release(p);
            if (ca)
                grpc_tls_credentials_options_watch_root_certs(o);
            if (pairs)
                grpc_tls_credentials_options_watch_identity_key_cert_pairs(o);
        }
        grpc_tls_credentials_options_set_verify_server_cert(o, 0);
        grpc_tls_certificate_verifier *v = grpc_tls_certificate_verifier_no_op_create();
        grpc_tls_credentials_options_set_certificate_verifier(o, v);
        grpc_tls_certificate_verifier_release(v);
        grpc_tls_credentials_options_set_check_call_host(o, 0);
        creds = grpc_tls_credentials_create(o); /* otlp_warn said it at load */
    } else {
        grpc_ssl_pem_key_cert_pair pair = {.private_key = key, .cert_chain = cert};
        creds = grpc_ssl_credentials_create(ca, cert ? &pair : NULL, NULL, NULL);
    }
    free(ca);
    free(cert);
    tls_pem_free(key);
    if (!creds)
        error_set(err, "tls: cannot create TLS credentials");
    return creds;
}

static const char *status_name(grpc_status_code c)
{
    static const char *const names[] = {
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
        "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
        "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
        "UNAUTHENTICATED"};
    if ((int)c >= 0 && (size_t)c < sizeof names / sizeof names[0])
        return names[c];
    return "UNKNOWN_STATUS";
}

/* RetryInfo.retry_delay in ns from a grpc-status-details-bin value; 0 when absent. */
static int64_t parse_retry_info(const uint8_t *data, size_t len)
{
    Google__Rpc__Status *st = google__rpc__status__unpack(NULL, len, data);
    if (!st)
        return 0;
    int64_t ns = 0;
    for (size_t i = 0; i < st->n_details && ns == 0; i++) {
        const Google__Protobuf__Any *any = st->details[i];
        const char *url = any->type_url ? any->type_url : "";
        size_t ul = strlen(url);
        static const char want[] = "google.rpc.RetryInfo";
        if (ul < sizeof want - 1 || strcmp(url + ul - (sizeof want - 1), want) != 0)
            continue;
        Google__Rpc__RetryInfo *ri =
            google__rpc__retry_info__unpack(NULL, any->value.len, any->value.data);
        if (!ri)
            continue;
        if (ri->retry_delay) {
            ns = ri->retry_delay->seconds * 1000000000 + ri->retry_delay->nanos;
            if (ns <= 0)
                ns = 1; /* present but zero: still "retry allowed", immediately */
        }
        google__rpc__retry_info__free_unpacked(ri, NULL);
    }
    google__rpc__status__free_unpacked(st, NULL);
    return ns;
}

static bool status_retryable(grpc_status_code c)
{
    switch (c) {
    case GRPC_STATUS_CANCELLED:
    case GRPC_STATUS_DEADLINE_EXCEEDED:
    case GRPC_STATUS_ABORTED:
    case GRPC_STATUS_OUT_OF_RANGE:
    case GRPC_STATUS_UNAVAILABLE:
    case GRPC_STATUS_DATA_LOSS:
        return true;
    default:
        return false;
    }
}

/* Reads partial_success from an OK response; logs and counts rejected items. */
static void check_partial_success(struct otlp_exporter *x, struct batch *b, grpc_byte_buffer *bb)
{
    if (!bb)
        return;
    grpc_byte_buffer_reader r;
    if (!grpc_byte_buffer_reader_init(&r, bb))
        return;
    grpc_slice s = grpc_byte_buffer_reader_readall(&r);
    grpc_byte_buffer_reader_destroy(&r);
    ProtobufCMessage *m = protobuf_c_message_unpack(otlp_response_descriptor(b->signal), NULL,
                                                    GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
    grpc_slice_unref(s);
    if (!m) {
        log_warn(x->log_name, "server answered OK with a response that does not decode; "
                              "treating the batch as delivered");
        return;
    }
    exporter_helper_partial_success(x->helper, b, m);
    protobuf_c_message_free_unpacked(m, NULL);
}

static void unref_batch_cb(void *p)
{
    batch_unref(p);
}

static enum send_result otlp_send(void *ctx, struct batch *b, int64_t *throttle_ns,
                                  struct error *err)
{
    struct otlp_exporter *x = ctx;
    const uint8_t *data;
    size_t len;
    if (batch_encoded(b, &data, &len, err) != 0) {
        error_prefix(err, "cannot encode the batch: ");
        return SEND_PERMANENT;
    }

    int64_t now = clock_now_ns();
    int64_t rel = x->cfg->timeout > 0 ? x->cfg->timeout : INT64_MAX / 2;
    int64_t sd = atomic_load(&x->shutdown_deadline);
    if (sd > 0 && sd - now < rel)
        rel = sd - now > 1000000 ? sd - now : 1000000;
    gpr_timespec deadline =
        rel >= INT64_MAX / 2 ? gpr_inf_future(GPR_CLOCK_MONOTONIC)
                             : gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                            gpr_time_from_nanos(rel, GPR_TIMESPAN));

    grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
    grpc_call *call = grpc_channel_create_registered_call(x->channel, NULL, GRPC_PROPAGATE_DEFAULTS,
                                                          cq, x->method[b->signal], deadline, NULL);
    /* Zero copy: the slice keeps a batch reference until gRPC has written the bytes. */
    grpc_slice body = grpc_slice_new_with_user_data((void *)data, len, unref_batch_cb, batch_ref(b));
    grpc_byte_buffer *req = grpc_raw_byte_buffer_create(&body, 1);
    grpc_slice_unref(body);

    grpc_metadata_array initial_md, trailing_md;
    grpc_metadata_array_init(&initial_md);
    grpc_metadata_array_init(&trailing_md);
    grpc_byte_buffer *resp = NULL;
    grpc_status_code status = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();
    const char *dbg = NULL;

    /* auth: the authenticator's header, asked per call so a rotated token is used at once,
     * in place of a configured header of the same name */
    grpc_metadata *md = x->md;
    size_t nmd = x->nmd;
    grpc_metadata auth_md[AUTH_MD_MAX];
    bool auth_set = false;
    if (x->cfg->has_auth && x->cfg->auth.client) {
        const char *name = NULL;
        char *value = NULL;
        if (x->cfg->auth.client->header(x->cfg->auth.client, &name, &value, err) != 0) {
            grpc_byte_buffer_destroy(req);
            grpc_call_unref(call);
            grpc_completion_queue_shutdown(cq);
            while (grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME),
                                               NULL).type != GRPC_QUEUE_SHUTDOWN)
                ;
            grpc_completion_queue_destroy(cq);
            error_prefix(err, "auth: ");
            return SEND_RETRYABLE;
        }
        char key[128];
        snprintf(key, sizeof key, "%s", name);
        for (char *p = key; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        nmd = 0;
        for (size_t i = 0; i < x->nmd && nmd + 1 < AUTH_MD_MAX; i++)
            if (grpc_slice_str_cmp(x->md[i].key, key) != 0)
                auth_md[nmd++] = x->md[i];
        auth_md[nmd].key = grpc_slice_from_copied_string(key);
        auth_md[nmd++].value = grpc_slice_from_copied_buffer(value, strlen(value));
        explicit_bzero(value, strlen(value));
        free(value);
        md = auth_md;
        auth_set = true;
    }

    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = nmd;
    ops[0].data.send_initial_metadata.metadata = md;
    if (x->cfg->wait_for_ready)
        ops[0].flags = GRPC_INITIAL_METADATA_WAIT_FOR_READY |
                       GRPC_INITIAL_METADATA_WAIT_FOR_READY_EXPLICITLY_SET;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = req;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial_md;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &resp;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.status = &status;
    ops[5].data.recv_status_on_client.status_details = &details;
    ops[5].data.recv_status_on_client.trailing_metadata = &trailing_md;
    ops[5].data.recv_status_on_client.error_string = &dbg;

    enum send_result result;
    void *tag = &ops;
    struct active_call ac = {.call = call};
    pthread_mutex_lock(&x->calls_mu);
    bool cancel_now = x->cancel_all;
    ac.next = x->calls;
    if (x->calls)
        x->calls->prev = &ac;
    x->calls = &ac;
    pthread_mutex_unlock(&x->calls_mu);
    grpc_call_error ce = grpc_call_start_batch(call, ops, 6, tag, NULL);
    if (cancel_now && ce == GRPC_CALL_OK)
        grpc_call_cancel_with_status(call, GRPC_STATUS_CANCELLED, "shutdown deadline reached", NULL);
    if (ce != GRPC_CALL_OK) {
        error_set(err, "cannot start the gRPC call (call error %d)", (int)ce);
        result = SEND_PERMANENT;
    } else {
        grpc_event ev = grpc_completion_queue_pluck(cq, tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        (void)ev; /* the batch always completes: status carries the outcome */
        if (status == GRPC_STATUS_OK) {
            check_partial_success(x, b, resp);
            result = SEND_OK;
        } else {
            int64_t retry_delay = 0;
            for (size_t i = 0; i < trailing_md.count; i++)
                if (grpc_slice_str_cmp(trailing_md.metadata[i].key, "grpc-status-details-bin") == 0)
                    retry_delay = parse_retry_info(GRPC_SLICE_START_PTR(trailing_md.metadata[i].value),
                                                   GRPC_SLICE_LENGTH(trailing_md.metadata[i].value));
            char *d = grpc_slice_to_c_string(details);
            const char *why = d && d[0] ? d : dbg ? dbg : "(no details)";
            error_set(err, "%s: %s", status_name(status), why);
            gpr_free(d);
            if (status_retryable(status) ||
                (status == GRPC_STATUS_RESOURCE_EXHAUSTED && retry_delay > 0)) {
                *throttle_ns = retry_delay;
                result = SEND_RETRYABLE;
            } else if (status == GRPC_STATUS_INVALID_ARGUMENT) {
                /* the data is bad: the helper narrows the refusal to the items that cause it */
                result = SEND_REJECTED;
            } else {
                result = SEND_PERMANENT;
            }
        }
    }

    pthread_mutex_lock(&x->calls_mu);
    if (ac.prev)
        ac.prev->next = ac.next;
    else
        x->calls = ac.next;
    if (ac.next)
        ac.next->prev = ac.prev;
    pthread_mutex_unlock(&x->calls_mu);
    grpc_call_unref(call);
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(cq);
    grpc_byte_buffer_destroy(req);
    if (resp)
        grpc_byte_buffer_destroy(resp);
    grpc_metadata_array_destroy(&initial_md);
    grpc_metadata_array_destroy(&trailing_md);
    grpc_slice_unref(details);
    if (auth_set) {
        grpc_slice_unref(md[nmd - 1].key);
        grpc_slice_unref(md[nmd - 1].value);
    }
    gpr_free((void *)dbg);
    return result;
}

static void otlp_destroy(void *self);

/* `otlp_grpc` and `otlp` are one exporter under two names: default_name only names an instance
 * created without an ID (tests); the service always passes the ID as the user wrote it, so logs
 * and the `exporter` label say `otlp_grpc/backend` or `otlp/backend` as configured. */
static void *create_common(const void *cfgp, const struct component_env *env,
                           const char *default_name, export_send_fn hook, void *hook_ctx,
                           struct error *err)
{
    const struct otlp_exporter_config *cfg = cfgp;
    struct otlp_exporter *x = calloc(1, sizeof *x);
    if (!x) {
        error_set(err, "out of memory");
        return NULL;
    }
    grpc_common_init();
    x->cfg = cfg;
    pthread_mutex_init(&x->calls_mu, NULL);
    pthread_condattr_t ca_attr;
    pthread_condattr_init(&ca_attr);
    pthread_condattr_setclock(&ca_attr, CLOCK_MONOTONIC);
    pthread_cond_init(&x->calls_cv, &ca_attr);
    pthread_condattr_destroy(&ca_attr);
    char fallback[64];
    snprintf(fallback, sizeof fallback, "exporter/%s", default_name);
    x->log_name = strdup(env->log_name ? env->log_name : fallback);
    if (!x->log_name) {
        error_set(err, "out of memory");
        goto fail;
    }

    bool tls_forced;
    const char *target = otlp_exporter_target(cfg->endpoint, &tls_forced);
    grpc_channel_credentials *creds = make_credentials(x, tls_forced, err);
    if (!creds)
        goto fail;

    grpc_arg args[12];
    size_t na = 0;
    const char *comp = cfg->compression ? cfg->compression : "";
    args[na++] = (grpc_arg){.type = GRPC_ARG_INTEGER,
                            .key = GRPC_COMPRESSION_CHANNEL_DEFAULT_ALGORITHM,
                            .value.integer = strcmp(comp, "gzip") == 0 ? GRPC_COMPRESS_GZIP
                                                                       : GRPC_COMPRESS_NONE};
    args[na++] = (grpc_arg){.type = GRPC_ARG_STRING, .key = GRPC_ARG_PRIMARY_USER_AGENT_STRING,
                            .value.string = "llmotlp"};
    /* gRPC's own reconnect backoff grows to 120 s; cap it so a restarted downstream is seen
     * within seconds. Long-term backoff is the job of retry_on_failure. */
    args[na++] = (grpc_arg){.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
                            .value.integer = 5000};
    if (cfg->balancer_name && cfg->balancer_name[0])
        args[na++] = (grpc_arg){.type = GRPC_ARG_STRING, .key = GRPC_ARG_LB_POLICY_NAME,
                                .value.string = cfg->balancer_name};
    if (cfg->authority && cfg->authority[0])
        args[na++] = (grpc_arg){.type = GRPC_ARG_STRING, .key = GRPC_ARG_DEFAULT_AUTHORITY,
                                .value.string = cfg->authority};
    if (cfg->tls.server_name_override && cfg->tls.server_name_override[0] &&
        !(cfg->tls.insecure && !tls_forced))
        args[na++] = (grpc_arg){.type = GRPC_ARG_STRING, .key = GRPC_SSL_TARGET_NAME_OVERRIDE_ARG,
                                .value.string = cfg->tls.server_name_override};
    if (cfg->keepalive_present && cfg->keepalive.time > 0)
        args[na++] = (grpc_arg){.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_KEEPALIVE_TIME_MS,
                                .value.integer = (int)(cfg->keepalive.time / 1000000)};
    if (cfg->keepalive_present && cfg->keepalive.timeout > 0)
        args[na++] = (grpc_arg){.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                                .value.integer = (int)(cfg->keepalive.timeout / 1000000)};
    if (cfg->keepalive_present)
        args[na++] = (grpc_arg){.type = GRPC_ARG_INTEGER,
                                .key = GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS,
                                .value.integer = cfg->keepalive.permit_without_stream};
    if (cfg->write_buffer_size > 0)
        args[na++] = (grpc_arg){.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_HTTP2_WRITE_BUFFER_SIZE,
                                .value.integer = (int)cfg->write_buffer_size};
    if (cfg->read_buffer_size > 0)
        args[na++] = (grpc_arg){.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_TCP_READ_CHUNK_SIZE,
                                .value.integer = (int)cfg->read_buffer_size};
    grpc_channel_args ca = {.num_args = na, .args = args};
    x->channel = grpc_channel_create(target, creds, &ca);
    grpc_channel_credentials_release(creds);
    if (!x->channel) {
        error_set(err, "cannot create a gRPC channel to %s", target);
        goto fail;
    }
    for (int s = 0; s < SIGNAL_COUNT; s++)
        x->method[s] = grpc_channel_register_call(x->channel, otlp_grpc_method((enum signal)s),
                                                  NULL, NULL);

    if (cfg->headers.n) {
        x->md = calloc(cfg->headers.n, sizeof *x->md);
        if (!x->md) {
            error_set(err, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < cfg->headers.n; i++) {
            char key[256];
            snprintf(key, sizeof key, "%s", cfg->headers.items[i].key);
            for (char *p = key; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            x->md[i].key = grpc_slice_from_copied_string(key);
            x->md[i].value = grpc_slice_from_copied_string(cfg->headers.items[i].value
                                                               ? cfg->headers.items[i].value
                                                               : "");
            x->nmd++;
        }
    }

    x->helper = exporter_helper_new(x->log_name, env->id ? env->id : default_name,
                                    &cfg->sending_queue,
                                    &cfg->retry_on_failure, hook ? hook : otlp_send,
                                    hook ? hook_ctx : x, env->telemetry, err);
    if (!x->helper)
        goto fail;
    log_debug(x->log_name, "exporting to %s (%s, compression %s)", target,
              cfg->tls.insecure && !tls_forced ? "insecure" : "TLS", comp[0] ? comp : "none");
    return x;

fail:
    otlp_destroy(x);
    return NULL;
}

static void *otlp_create(const void *cfgp, const struct component_env *env, struct error *err)
{
    return create_common(cfgp, env, "otlp", NULL, NULL, err);
}

void *otlp_exporter_create_hooked(const struct otlp_exporter_config *cfg,
                                  const struct component_env *env, export_send_fn hook,
                                  void *hook_ctx, struct error *err)
{
    return create_common(cfg, env, "otlp", hook, hook_ctx, err);
}

enum send_result otlp_exporter_send(void *x, struct batch *b, int64_t *throttle_ns,
                                    struct error *err)
{
    return otlp_send(x, b, throttle_ns, err);
}

static void *otlp_grpc_create(const void *cfgp, const struct component_env *env,
                              struct error *err)
{
    return create_common(cfgp, env, "otlp_grpc", NULL, NULL, err);
}

static int otlp_start(void *self, struct error *err)
{
    struct otlp_exporter *x = self;
    return exporter_helper_start(x->helper, err);
}

struct watcher_arg {
    struct otlp_exporter *x;
    int64_t deadline_ns;
};

/* Cancels the calls still in flight when the deadline passes, so a slow or silent server cannot
 * hold shutdown past it for a whole per-attempt timeout. */
static void *deadline_watcher(void *p)
{
    struct watcher_arg *a = p;
    struct otlp_exporter *x = a->x;
    struct timespec ts = {.tv_sec = (time_t)(a->deadline_ns / 1000000000),
                          .tv_nsec = (long)(a->deadline_ns % 1000000000)};
    pthread_mutex_lock(&x->calls_mu);
    while (!x->helper_done && clock_now_ns() < a->deadline_ns)
        pthread_cond_timedwait(&x->calls_cv, &x->calls_mu, &ts);
    if (!x->helper_done) {
        x->cancel_all = true;
        for (struct active_call *c = x->calls; c; c = c->next)
            grpc_call_cancel_with_status(c->call, GRPC_STATUS_CANCELLED,
                                         "shutdown deadline reached", NULL);
    }
    pthread_mutex_unlock(&x->calls_mu);
    return NULL;
}

static void otlp_shutdown(void *self, int64_t deadline_ns)
{
    struct otlp_exporter *x = self;
    atomic_store(&x->shutdown_deadline, deadline_ns > 0 ? deadline_ns : 1);
    if (!x->helper)
        return;
    struct watcher_arg a = {.x = x, .deadline_ns = deadline_ns};
    pthread_t th;
    bool watching = pthread_create(&th, NULL, deadline_watcher, &a) == 0;
    exporter_helper_shutdown(x->helper, deadline_ns);
    pthread_mutex_lock(&x->calls_mu);
    x->helper_done = true;
    pthread_cond_broadcast(&x->calls_cv);
    pthread_mutex_unlock(&x->calls_mu);
    if (watching)
        pthread_join(th, NULL);
}

static enum consume_status otlp_consume(void *self, struct batch *b)
{
    struct otlp_exporter *x = self;
    return exporter_helper_consume(x->helper, b);
}

static void otlp_destroy(void *self)
{
    struct otlp_exporter *x = self;
    if (!x)
        return;
    exporter_helper_free(x->helper);
    for (size_t i = 0; i < x->nmd; i++) {
        grpc_slice_unref(x->md[i].key);
        grpc_slice_unref(x->md[i].value);
    }
    free(x->md);
    if (x->channel)
        grpc_channel_destroy(x->channel);
    pthread_mutex_destroy(&x->calls_mu);
    pthread_cond_destroy(&x->calls_cv);
    free(x->log_name);
    free(x);
    grpc_common_shutdown();
}

#define OTLP_FACTORY_COMMON                                                                        \
    .kind = COMPONENT_EXPORTER, .fields = otlp_exporter_fields,                                    \
    .config_size = sizeof(struct otlp_exporter_config),                                            \
    .signals = (1u << SIGNAL_TRACES) | (1u << SIGNAL_METRICS) | (1u << SIGNAL_LOGS),               \
    .validate = otlp_validate, .warn = otlp_warn, .start = otlp_start,                             \
    .shutdown = otlp_shutdown, .consume = otlp_consume, .destroy = otlp_destroy

const struct component_factory otlp_exporter_factory = {
    .type = "otlp",
    .doc = "OTLP/gRPC exporter (Collector otlp exporter keys): queue, retry, gzip, TLS",
    .create = otlp_create,
    OTLP_FACTORY_COMMON,
};

/* The Collector's primary name of the same exporter since v0.144 (`otlp` stays as its alias). */
const struct component_factory otlp_grpc_exporter_factory = {
    .type = "otlp_grpc",
    .doc = "the otlp exporter under its newer Collector name",
    .create = otlp_grpc_create,
    OTLP_FACTORY_COMMON,
};
