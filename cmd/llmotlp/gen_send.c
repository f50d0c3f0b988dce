/* gen_send.c — OTLP/gRPC and OTLP/HTTP senders of `llmotlp gen` (see gen_send.h).
 *
 * The one idea: both transports end in the same gen_result, read the same way: the answer's
 * partial_success is decoded from the Export*ServiceResponse bytes whichever transport brought
 * them, and a refusal is classed retryable or permanent by the rules the OTLP specification gives
 * each transport (gRPC UNAVAILABLE/RESOURCE_EXHAUSTED; HTTP 429/502/503/504). "Unreachable" is a
 * gRPC UNAVAILABLE while the channel itself is failing to connect (no server ever answered), or
 * an HTTP request that got no response at all. */
#include "cmd/llmotlp/gen_send.h"

#include <ctype.h>
#include <curl/curl.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/grpc_common.h"
#include "google/rpc/status.pb-c.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

struct gen_sender {
    struct gen_sender_opts o;
    /* gRPC */
    grpc_channel *channel;
    grpc_metadata *md;
    size_t nmd;
    bool grpc_inited;
    /* HTTP */
    char *base_url;
    struct curl_slist *headers;
    bool curl_inited;
};

struct gen_conn {
    struct gen_sender *s;
    grpc_completion_queue *cq;
    CURL *easy;
    char *body;
    size_t body_len, body_cap;
    char curl_err[CURL_ERROR_SIZE];
};

static const char *const grpc_names[] = {
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
    "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};

const char *gen_grpc_status_name(int code)
{
    return code >= 0 && code < (int)(sizeof grpc_names / sizeof grpc_names[0]) ? grpc_names[code]
                                                                               : "UNKNOWN";
}

static char *read_file(const char *path, struct error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        error_set(err, "cannot read %s: %m", path);
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (size_t r; buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0;) {
        n += r;
        if (cap - n - 1 == 0) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            } else {
                buf = nb;
            }
        }
    }
    fclose(f);
    if (!buf) {
        error_set(err, "out of memory reading %s", path);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* "key=value" -> key (lowercased for gRPC metadata) and value; -1 when there is no '='. */
static int split_header(const char *h, char **key, char **value, bool lower)
{
    const char *eq = strchr(h, '=');
    if (!eq || eq == h)
        return -1;
    *key = strndup(h, (size_t)(eq - h));
    *value = strdup(eq + 1);
    if (!*key || !*value)
        return -1;
    if (lower)
        for (char *p = *key; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    return 0;
}

struct gen_sender *gen_sender_new(const struct gen_sender_opts *o, struct error *err)
{
    struct gen_sender *s = calloc(1, sizeof *s);
    if (!s) {
        error_set(err, "out of memory");
        return NULL;
    }
    s->o = *o;
    if (!s->o.user_agent)
        s->o.user_agent = "llmotlp-gen";
    if (o->http) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            error_set(err, "curl_global_init failed");
            free(s);
            return NULL;
        }
        s->curl_inited = true;
        const char *ep = o->endpoint;
        bool has_scheme = strncmp(ep, "http://", 7) == 0 || strncmp(ep, "https://", 8) == 0;
        size_t n = strlen(ep) + 16;
        s->base_url = malloc(n);
        if (!s->base_url) {
            error_set(err, "out of memory");
            gen_sender_free(s);
            return NULL;
        }
        snprintf(s->base_url, n, "%s%s", has_scheme ? "" : o->tls ? "https://" : "http://", ep);
        size_t l = strlen(s->base_url);
        while (l > 0 && s->base_url[l - 1] == '/')
            s->base_url[--l] = '\0';
        s->headers = curl_slist_append(NULL, "Content-Type: application/x-protobuf");
        s->headers = curl_slist_append(s->headers, "Expect:");
        for (size_t i = 0; i < o->n_headers; i++) {
            char *k, *v;
            if (split_header(o->headers[i], &k, &v, false) != 0) {
                error_set(err, "--header '%s': expected KEY=VALUE", o->headers[i]);
                gen_sender_free(s);
                return NULL;
            }
            char line[4096];
            snprintf(line, sizeof line, "%s: %s", k, v);
            s->headers = curl_slist_append(s->headers, line);
            free(k);
            free(v);
        }
        return s;
    }

    s->md = calloc(o->n_headers ? o->n_headers : 1, sizeof *s->md);
    for (size_t i = 0; i < o->n_headers; i++) {
        char *k, *v;
        if (split_header(o->headers[i], &k, &v, true) != 0) {
            error_set(err, "--header '%s': expected KEY=VALUE", o->headers[i]);
            gen_sender_free(s);
            return NULL;
        }
        s->md[s->nmd].key = grpc_slice_from_copied_string(k);
        s->md[s->nmd].value = grpc_slice_from_copied_string(v);
        s->nmd++;
        free(k);
        free(v);
    }
    grpc_common_init();
    s->grpc_inited = true;
    grpc_channel_credentials *creds;
    if (o->tls) {
        char *ca = NULL;
        if (o->ca_file && !(ca = read_file(o->ca_file, err))) {
            gen_sender_free(s);
            return NULL;
        }
        creds = grpc_ssl_credentials_create(ca, NULL, NULL, NULL);
        free(ca);
    } else {
        creds = grpc_insecure_credentials_create();
    }
    grpc_arg args[] = {
        {GRPC_ARG_INTEGER, GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, {.integer = -1}},
        {GRPC_ARG_STRING, GRPC_ARG_PRIMARY_USER_AGENT_STRING, {.string = (char *)s->o.user_agent}},
    };
    grpc_channel_args cargs = {sizeof args / sizeof args[0], args};
    s->channel = grpc_channel_create(o->endpoint, creds, &cargs);
    grpc_channel_credentials_release(creds);
    if (!s->channel) {
        error_set(err, "cannot create a gRPC channel to %s", o->endpoint);
        gen_sender_free(s);
        return NULL;
    }
    return s;
}

void gen_sender_free(struct gen_sender *s)
{
    if (!s)
        return;
    if (s->channel)
        grpc_channel_destroy(s->channel);
    for (size_t i = 0; i < s->nmd; i++) {
        grpc_slice_unref(s->md[i].key);
        grpc_slice_unref(s->md[i].value);
    }
    free(s->md);
    if (s->grpc_inited)
        grpc_common_shutdown();
    curl_slist_free_all(s->headers);
    free(s->base_url);
    if (s->curl_inited)
        curl_global_cleanup();
    free(s);
}

static size_t http_body(char *data, size_t size, size_t nmemb, void *userp)
{
    struct gen_conn *c = userp;
    size_t n = size * nmemb;
    if (c->body_len + n > c->body_cap) {
        size_t cap = c->body_cap ? c->body_cap : 1024;
        while (cap < c->body_len + n)
            cap *= 2;
        if (cap > (16u << 20))
            return 0; /* a response this large is not an OTLP answer */
        char *nb = realloc(c->body, cap);
        if (!nb)
            return 0;
        c->body = nb;
        c->body_cap = cap;
    }
    memcpy(c->body + c->body_len, data, n);
    c->body_len += n;
    return n;
}

struct gen_conn *gen_conn_new(struct gen_sender *s, struct error *err)
{
    struct gen_conn *c = calloc(1, sizeof *c);
    if (!c) {
        error_set(err, "out of memory");
        return NULL;
    }
    c->s = s;
    if (!s->o.http) {
        c->cq = grpc_completion_queue_create_for_pluck(NULL);
        return c;
    }
    c->easy = curl_easy_init();
    if (!c->easy) {
        error_set(err, "curl_easy_init failed");
        free(c);
        return NULL;
    }
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, s->headers);
    curl_easy_setopt(c->easy, CURLOPT_USERAGENT, s->o.user_agent);
    curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, s->o.timeout_ms);
    curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, http_body);
    curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, c->curl_err);
    if (s->o.ca_file)
        curl_easy_setopt(c->easy, CURLOPT_CAINFO, s->o.ca_file);
    return c;
}

void gen_conn_free(struct gen_conn *c)
{
    if (!c)
        return;
    if (c->cq) {
        grpc_completion_queue_shutdown(c->cq);
        while (grpc_completion_queue_pluck(c->cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
               GRPC_QUEUE_SHUTDOWN)
            ;
        grpc_completion_queue_destroy(c->cq);
    }
    if (c->easy)
        curl_easy_cleanup(c->easy);
    free(c->body);
    free(c);
}

/* partial_success of an Export*ServiceResponse; a body that does not decode counts as none. */
static void read_partial(enum signal sig, const uint8_t *p, size_t n, struct gen_result *r)
{
    ProtobufCMessage *m = protobuf_c_message_unpack(otlp_response_descriptor(sig), NULL, n, p);
    if (!m)
        return;
    const char *msg = NULL;
    if (sig == SIGNAL_TRACES) {
        Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse *t = (void *)m;
        if (t->partial_success)
            r->rejected = t->partial_success->rejected_spans, msg = t->partial_success->error_message;
    } else if (sig == SIGNAL_METRICS) {
        Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse *t = (void *)m;
        if (t->partial_success)
            r->rejected = t->partial_success->rejected_data_points,
            msg = t->partial_success->error_message;
    } else {
        Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse *t = (void *)m;
        if (t->partial_success)
            r->rejected = t->partial_success->rejected_log_records,
            msg = t->partial_success->error_message;
    }
    if (msg && *msg)
        snprintf(r->message, sizeof r->message, "partial success: %s", msg);
    protobuf_c_message_free_unpacked(m, NULL);
}

static void grpc_send(struct gen_conn *c, enum signal sig, const uint8_t *buf, size_t len,
                      struct gen_result *r)
{
    struct gen_sender *s = c->s;
    gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                         gpr_time_from_millis(s->o.timeout_ms, GPR_TIMESPAN));
    grpc_call *call = grpc_channel_create_call(s->channel, NULL, GRPC_PROPAGATE_DEFAULTS, c->cq,
                                               grpc_slice_from_static_string(otlp_grpc_method(sig)),
                                               NULL, deadline, NULL);
    grpc_slice payload = grpc_slice_from_copied_buffer((const char *)buf, len);
    grpc_byte_buffer *send = grpc_raw_byte_buffer_create(&payload, 1);
    grpc_slice_unref(payload);
    grpc_byte_buffer *recv = NULL;
    grpc_metadata_array initial_md, trailing_md;
    grpc_metadata_array_init(&initial_md);
    grpc_metadata_array_init(&trailing_md);
    grpc_status_code status = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();

    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = s->nmd;
    ops[0].data.send_initial_metadata.metadata = s->md;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial_md;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &recv;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.status = &status;
    ops[5].data.recv_status_on_client.status_details = &details;
    ops[5].data.recv_status_on_client.trailing_metadata = &trailing_md;
    bool done = false;
    if (grpc_call_start_batch(call, ops, 6, &done, NULL) == GRPC_CALL_OK) {
        grpc_event ev = grpc_completion_queue_pluck(c->cq, &done, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type != GRPC_OP_COMPLETE || !ev.success)
            status = GRPC_STATUS_UNKNOWN;
    }
    r->code = (int)status;
    if (status == GRPC_STATUS_OK) {
        r->outcome = GEN_OK;
        if (recv) {
            grpc_byte_buffer_reader rd;
            if (grpc_byte_buffer_reader_init(&rd, recv)) {
                grpc_slice all = grpc_byte_buffer_reader_readall(&rd);
                grpc_byte_buffer_reader_destroy(&rd);
                read_partial(sig, GRPC_SLICE_START_PTR(all), GRPC_SLICE_LENGTH(all), r);
                grpc_slice_unref(all);
            }
        }
    } else {
        char *d = grpc_slice_to_c_string(details);
        snprintf(r->message, sizeof r->message, "%s: %s", gen_grpc_status_name(status),
                 d && *d ? d : "(no details)");
        gpr_free(d);
        grpc_connectivity_state st = grpc_channel_check_connectivity_state(s->channel, 0);
        if (status == GRPC_STATUS_DEADLINE_EXCEEDED ||
            (status == GRPC_STATUS_UNAVAILABLE &&
             (st == GRPC_CHANNEL_TRANSIENT_FAILURE || st == GRPC_CHANNEL_CONNECTING ||
              st == GRPC_CHANNEL_IDLE)))
            r->outcome = GEN_UNREACHABLE;
        else if (status == GRPC_STATUS_UNAVAILABLE || status == GRPC_STATUS_RESOURCE_EXHAUSTED)
            r->outcome = GEN_RETRYABLE;
        else
            r->outcome = GEN_REFUSED;
    }
    grpc_byte_buffer_destroy(send);
    if (recv)
        grpc_byte_buffer_destroy(recv);
    grpc_metadata_array_destroy(&initial_md);
    grpc_metadata_array_destroy(&trailing_md);
    grpc_slice_unref(details);
    grpc_call_unref(call);
}

static const char *const http_paths[] = {"/v1/traces", "/v1/metrics", "/v1/logs"};

static void http_send(struct gen_conn *c, enum signal sig, const uint8_t *buf, size_t len,
                      struct gen_result *r)
{
    struct gen_sender *s = c->s;
    char url[2048];
    snprintf(url, sizeof url, "%s%s", s->base_url, http_paths[sig]);
    curl_easy_setopt(c->easy, CURLOPT_URL, url);
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, (const char *)buf);
    c->body_len = 0;
    c->curl_err[0] = '\0';
    CURLcode rc = curl_easy_perform(c->easy);
    long code = 0;
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &code);
    r->code = (int)code;
    if (rc != CURLE_OK) {
        r->outcome = GEN_UNREACHABLE;
        r->code = 0;
        snprintf(r->message, sizeof r->message, "%.120s: %.120s", url,
                 c->curl_err[0] ? c->curl_err : curl_easy_strerror(rc));
        return;
    }
    if (code >= 200 && code < 300) {
        r->outcome = GEN_OK;
        read_partial(sig, (const uint8_t *)c->body, c->body_len, r);
        return;
    }
    r->outcome = code == 429 || code == 502 || code == 503 || code == 504 ? GEN_RETRYABLE : GEN_REFUSED;
    /* The body is a google.rpc.Status (protobuf) per the spec; some servers answer text. */
    char text[200] = "";
    Google__Rpc__Status *st = google__rpc__status__unpack(NULL, c->body_len, (const uint8_t *)c->body);
    if (st && st->message && *st->message) {
        snprintf(text, sizeof text, "%s", st->message);
    } else {
        size_t n = c->body_len < sizeof text - 1 ? c->body_len : sizeof text - 1;
        for (size_t i = 0; i < n; i++)
            text[i] = isprint((unsigned char)c->body[i]) ? c->body[i] : '.';
        text[n] = '\0';
    }
    if (st)
        google__rpc__status__free_unpacked(st, NULL);
    snprintf(r->message, sizeof r->message, "HTTP %ld: %s", code, text[0] ? text : "(empty body)");
}

void gen_send(struct gen_conn *c, enum signal sig, const uint8_t *buf, size_t len,
              struct gen_result *r)
{
    memset(r, 0, sizeof *r);
    if (c->s->o.http)
        http_send(c, sig, buf, len, r);
    else
        grpc_send(c, sig, buf, len, r);
}
