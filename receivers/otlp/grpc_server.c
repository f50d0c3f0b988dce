/* grpc_server.c — the OTLP/gRPC server of the otlp receiver, on gRPC core's async C API: the
 * three Export methods are registered with their payload read up front, N worker threads each
 * drain their own completion queue, and every call is answered with one final batch.
 *
 * The one idea: every tag handed to gRPC on a worker queue (a posted request or a final batch) is
 * counted in `outstanding`, and only a worker handling one of those tags can create another. So
 * once the server is shut down and every call cancelled, `outstanding` falls to zero and stays
 * there, and only then are the queues shut down: no handler can ever start a batch on a queue
 * that is gone (which gRPC punishes with an abort).
 *
 * Compressed requests are inflated here, not by gRPC core: core's decompression filter inflates a
 * whole message before its size is checked, so a 1 MB gzip bomb would cost a GiB. Core is told not
 * to decompress (its size limit then applies to the bytes on the wire) and otlp_grpc_read_message
 * inflates into a buffer that may never grow past the limit + 1 byte.
 *
 * TLS is served through core's certificate config fetcher, asked at every new handshake: it hands
 * core a new config only when tls.reload_interval / client_ca_file_reload found changed files
 * that load (core/tls_reload.c), so a rotation reaches new connections and never breaks them. */
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/compression.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/status.h>
#include <grpc/support/time.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "core/component.h"
#include "core/log.h"
#include "core/membudget.h"
#include "core/tls_config.h"
#include "core/tls_reload.h"
#include "core/unix_socket.h"
#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/duration.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "receivers/otlp/otlp_receiver.h"

#define GS_PREPOST 8        /* requests kept posted per method per queue */
#define GS_GENERIC (-1)     /* call kind: a method not registered */

struct gs_worker {
    struct otlp_grpc_server *srv;
    grpc_completion_queue *cq;
    pthread_t thread;
    bool drained;                     /* its thread saw GRPC_QUEUE_SHUTDOWN and was joined */
};

struct otlp_grpc_server {
    grpc_server *server;
    grpc_completion_queue *shutdown_cq;
    void *method[SIGNAL_COUNT];       /* registered handles; NULL = signal not served */
    unsigned signals;
    otlp_export_fn fn;
    otlp_refused_fn refused;          /* transport-level refusals, for counters; may be NULL */
    void *user;
    const char *log_name;
    const struct auth_config *auth;   /* protocols.grpc.auth; NULL = none */
    size_t max_recv;                  /* bytes, after decompression */
    int port;
    size_t nworkers;                  /* threads started */
    struct gs_worker *workers;
    size_t nqueues;                   /* queues created (>= nworkers) */
    atomic_bool stopping;             /* no more re-posting */
    pthread_mutex_t mu;
    pthread_cond_t idle;
    long outstanding;                 /* tags owned by gRPC on worker queues, under mu */
    bool shut_down;
    bool started;
    /* TLS: the watched files, and the generation gRPC core last took from them (only touched by
     * the fetcher, which core calls under its own lock) */
    struct tls_reload tls;
    uint64_t tls_seen;
    struct unix_socket sock_file;     /* transport unix: the socket file gRPC core made */
};

struct gs_call {
    struct gs_worker *w;
    int kind;                         /* enum signal, or GS_GENERIC */
    bool finishing;                   /* the final batch was started: next event frees */
    grpc_call *call;
    gpr_timespec deadline;
    grpc_call_details details;        /* GS_GENERIC only */
    grpc_metadata_array md;
    grpc_byte_buffer *req;
    grpc_byte_buffer *resp;
    grpc_slice status_details;
    bool has_status_details;
    grpc_metadata trailer[1];
    size_t ntrailer;
    int cancelled;
};

/* ---- accounting of tags on worker queues ------------------------------------------------------ */

static void tags_add(struct otlp_grpc_server *s)
{
    pthread_mutex_lock(&s->mu);
    s->outstanding++;
    pthread_mutex_unlock(&s->mu);
}

static void tags_done(struct otlp_grpc_server *s)
{
    pthread_mutex_lock(&s->mu);
    if (--s->outstanding == 0)
        pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->mu);
}

/* ---- calls ------------------------------------------------------------------------------------ */

static void call_free(struct gs_call *c)
{
    if (c->call)
        grpc_call_unref(c->call);
    if (c->kind == GS_GENERIC)
        grpc_call_details_destroy(&c->details);
    grpc_metadata_array_destroy(&c->md);
    if (c->req)
        grpc_byte_buffer_destroy(c->req);
    if (c->resp)
        grpc_byte_buffer_destroy(c->resp);
    if (c->has_status_details)
        grpc_slice_unref(c->status_details);
    for (size_t i = 0; i < c->ntrailer; i++) {
        grpc_slice_unref(c->trailer[i].key);
        grpc_slice_unref(c->trailer[i].value);
    }
    free(c);
}

/* Posts one request for a new call of `kind` on w's queue. */
static void post(struct gs_worker *w, int kind)
{
    struct otlp_grpc_server *s = w->srv;
    struct gs_call *c = calloc(1, sizeof *c);
    if (!c) {
        log_error(s->log_name, "out of memory posting a gRPC request; serving with one fewer slot");
        return;
    }
    c->w = w;
    c->kind = kind;
    grpc_metadata_array_init(&c->md);
    grpc_call_error e;
    tags_add(s);
    if (kind == GS_GENERIC) {
        grpc_call_details_init(&c->details);
        e = grpc_server_request_call(s->server, &c->call, &c->details, &c->md, w->cq, w->cq, c);
    } else {
        e = grpc_server_request_registered_call(s->server, s->method[kind], &c->call, &c->deadline,
                                                &c->md, &c->req, w->cq, w->cq, c);
    }
    if (e != GRPC_CALL_OK) {
        log_error(s->log_name, "gRPC request_call failed (%d)", (int)e);
        tags_done(s);
        call_free(c);
    }
}

/* Packs google.rpc.Status{code, message, details: [Any{RetryInfo{retry_delay}}]}, the value of
 * the `grpc-status-details-bin` trailer that OTLP clients read for throttling. */
static grpc_slice retry_status_bin(int code, const char *message, int64_t delay_ns)
{
    Google__Protobuf__Duration d = GOOGLE__PROTOBUF__DURATION__INIT;
    d.seconds = delay_ns / 1000000000;
    d.nanos = (int32_t)(delay_ns % 1000000000);
    Google__Rpc__RetryInfo ri = GOOGLE__RPC__RETRY_INFO__INIT;
    ri.retry_delay = &d;
    uint8_t ri_buf[64];
    size_t ri_len = google__rpc__retry_info__pack(&ri, ri_buf); /* <= 2 + 11 + 6 bytes */

    Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
    any.type_url = "type.googleapis.com/google.rpc.RetryInfo";
    any.value.data = ri_buf;
    any.value.len = ri_len;
    Google__Protobuf__Any *details[1] = {&any};
    Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
    st.code = code;
    st.message = (char *)message;
    st.n_details = 1;
    st.details = details;
    grpc_slice out = grpc_slice_malloc(google__rpc__status__get_packed_size(&st));
    google__rpc__status__pack(&st, GRPC_SLICE_START_PTR(out));
    return out;
}

/* Sends the one final batch of a call: status (and the response message on OK). */
static void finish(struct gs_call *c, int status, const char *message, uint8_t *body, size_t body_len,
                   int64_t retry_delay_ns)
{
    struct otlp_grpc_server *s = c->w->srv;
    grpc_op ops[4];
    size_t n = 0;
    memset(ops, 0, sizeof ops);
    ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
    if (status == GRPC_STATUS_OK) {
        if (body_len) {
            grpc_slice sl = grpc_slice_new(body, body_len, free); /* takes body */
            c->resp = grpc_raw_byte_buffer_create(&sl, 1);
            grpc_slice_unref(sl);
        } else {
            free(body);
            c->resp = grpc_raw_byte_buffer_create(NULL, 0);
        }
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = c->resp;
    } else {
        free(body);
    }
    if (message && *message) {
        c->status_details = grpc_slice_from_copied_string(message);
        c->has_status_details = true;
    }
    if (retry_delay_ns > 0) {
        c->trailer[0].key = grpc_slice_from_static_string("grpc-status-details-bin");
        c->trailer[0].value = retry_status_bin(status, message ? message : "", retry_delay_ns);
        c->ntrailer = 1;
    }
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = (grpc_status_code)status;
    ops[n].data.send_status_from_server.status_details =
        c->has_status_details ? &c->status_details : NULL;
    ops[n].data.send_status_from_server.trailing_metadata_count = c->ntrailer;
    ops[n++].data.send_status_from_server.trailing_metadata = c->ntrailer ? c->trailer : NULL;
    ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[n++].data.recv_close_on_server.cancelled = &c->cancelled;

    c->finishing = true;
    tags_add(s);
    grpc_call_error e = grpc_call_start_batch(c->call, ops, n, c, NULL);
    if (e != GRPC_CALL_OK) {
        log_error(s->log_name, "gRPC start_batch failed (%d)", (int)e);
        tags_done(s);
        call_free(c);
    }
}

static bool slice_equals(grpc_slice sl, const char *str)
{
    size_t n = strlen(str);
    return GRPC_SLICE_LENGTH(sl) == n && memcmp(GRPC_SLICE_START_PTR(sl), str, n) == 0;
}

static void handle_generic(struct gs_call *c)
{
    struct otlp_grpc_server *s = c->w->srv;
    char msg[300];
    int k;
    for (k = 0; k < SIGNAL_COUNT; k++)
        if (slice_equals(c->details.method, otlp_grpc_method((enum signal)k)))
            break;
    if (k < SIGNAL_COUNT) {
        snprintf(msg, sizeof msg, "no pipeline for %s", signal_name((enum signal)k));
    } else {
        int len = (int)GRPC_SLICE_LENGTH(c->details.method);
        snprintf(msg, sizeof msg, "unknown method %.*s", len > 200 ? 200 : len,
                 (const char *)GRPC_SLICE_START_PTR(c->details.method));
    }
    log_debug(s->log_name, "gRPC call answered UNIMPLEMENTED: %s", msg);
    finish(c, GRPC_STATUS_UNIMPLEMENTED, msg, NULL, 0, 0);
}

/* Copies the slices of an uncompressed message into one malloc'd buffer (NULL when empty).
 * false if the buffer cannot be read or on OOM. */
static bool copy_slices(grpc_byte_buffer *bb, uint8_t **out, size_t *len)
{
    size_t n = grpc_byte_buffer_length(bb);
    if (n == 0)
        return true;
    grpc_byte_buffer_reader rd;
    if (!grpc_byte_buffer_reader_init(&rd, bb))
        return false;
    uint8_t *buf = malloc(n);
    size_t at = 0;
    grpc_slice sl;
    while (buf && grpc_byte_buffer_reader_next(&rd, &sl)) {
        size_t k = GRPC_SLICE_LENGTH(sl);
        if (k > n - at) { /* cannot happen: length() counts these slices */
            grpc_slice_unref(sl);
            break;
        }
        memcpy(buf + at, GRPC_SLICE_START_PTR(sl), k);
        at += k;
        grpc_slice_unref(sl);
    }
    grpc_byte_buffer_reader_destroy(&rd);
    if (!buf || at != n) {
        free(buf);
        return false;
    }
    *out = buf;
    *len = n;
    return true;
}

/* How many more bytes the stream `zs` (now inside slice i of sb) inflates to, counting on a copy
 * of its state into a small scratch buffer and stopping once past `budget`. Returns SIZE_MAX when
 * the copy cannot be made or the data is corrupt: the caller's own pass then finds out. */
static size_t inflated_rest(z_stream *zs, grpc_slice_buffer *sb, size_t i, bool gzip, size_t budget)
{
    z_stream z2;
    if (inflateCopy(&z2, zs) != Z_OK)
        return SIZE_MAX;
    uint8_t scratch[16384];
    size_t more = 0;
    bool done = false, bad = false;
    for (; !bad && more <= budget && i < sb->count; i++) {
        if (z2.avail_in == 0) {
            z2.next_in = GRPC_SLICE_START_PTR(sb->slices[i]);
            z2.avail_in = (uInt)GRPC_SLICE_LENGTH(sb->slices[i]);
        }
        while (!bad && z2.avail_in > 0 && more <= budget) {
            if (done) {
                if (!gzip || inflateReset(&z2) != Z_OK) {
                    bad = true;
                    break;
                }
                done = false;
            }
            z2.next_out = scratch;
            z2.avail_out = sizeof scratch;
            int rc = inflate(&z2, Z_NO_FLUSH);
            more += sizeof scratch - z2.avail_out;
            if (rc == Z_STREAM_END)
                done = true;
            else if (rc != Z_OK && !(rc == Z_BUF_ERROR && z2.avail_out == 0))
                bad = true;
        }
        z2.avail_in = 0; /* the next slice, if any */
    }
    inflateEnd(&z2);
    return bad ? SIZE_MAX : more;
}

/* Inflates the slices of a compressed message (gRPC's "deflate" is the zlib format, as core
 * writes it; "gzip" may hold several members, as RFC 1952 allows) into a buffer that grows by
 * doubling but never past max + 1 bytes: the byte that proves the message too large. Before the
 * growth that would reach the limit, the rest of the stream is counted on a copy of zlib's state
 * (inflated_rest): a bomb is then refused while the buffer holds half the limit, not after a
 * realloc that holds both halves at once, and an honest message gets a buffer of its exact size. */
static int inflate_slices(grpc_byte_buffer *bb, bool gzip, size_t max, uint8_t **out, size_t *len,
                          char *msg, size_t msglen)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, gzip ? 16 + MAX_WBITS : MAX_WBITS) != Z_OK) {
        snprintf(msg, msglen, "out of memory; retry later");
        return GRPC_STATUS_UNAVAILABLE;
    }
    size_t bound = max + 1, wire = grpc_byte_buffer_length(bb);
    /* first guess: 4x the wire size, which fits most OTLP payloads without a realloc */
    size_t cap = wire < bound / 4 ? wire * 4 : bound;
    if (cap < 4096)
        cap = bound < 4096 ? bound : 4096;
    uint8_t *buf = malloc(cap);
    size_t n = 0;
    bool done = false, seen = false;
    int status = GRPC_STATUS_OK;
    grpc_slice_buffer *sb = &bb->data.raw.slice_buffer;
    for (size_t i = 0; buf && status == GRPC_STATUS_OK && i < sb->count; i++) {
        zs.next_in = GRPC_SLICE_START_PTR(sb->slices[i]);
        zs.avail_in = (uInt)GRPC_SLICE_LENGTH(sb->slices[i]);
        while (zs.avail_in > 0 && status == GRPC_STATUS_OK) {
            seen = true;
            if (done) { /* data after a complete stream */
                if (!gzip) {
                    snprintf(msg, msglen, "invalid deflate message: data after the end of the stream");
                    status = GRPC_STATUS_INVALID_ARGUMENT;
                    break;
                }
                inflateReset(&zs);
                done = false;
            }
            if (n == cap) {
                if (cap >= bound) {
                    status = GRPC_STATUS_RESOURCE_EXHAUSTED;
                    break;
                }
                size_t ncap = cap * 2 < bound ? cap * 2 : bound;
                if (ncap == bound) {
                    size_t more = inflated_rest(&zs, sb, i, gzip, max - n);
                    if (more != SIZE_MAX && more > max - n) {
                        status = GRPC_STATUS_RESOURCE_EXHAUSTED;
                        break;
                    }
                    if (more != SIZE_MAX)
                        ncap = n + more + 1; /* +1: inflate's "output full" stays distinct */
                }
                uint8_t *nb = realloc(buf, ncap);
                if (!nb) {
                    snprintf(msg, msglen, "out of memory; retry later");
                    status = GRPC_STATUS_UNAVAILABLE;
                    break;
                }
                buf = nb;
                cap = ncap;
            }
            zs.next_out = buf + n;
            zs.avail_out = (uInt)(cap - n > UINT_MAX ? UINT_MAX : cap - n);
            uInt before = zs.avail_out;
            int rc = inflate(&zs, Z_NO_FLUSH);
            n += before - zs.avail_out;
            if (n > max) {
                status = GRPC_STATUS_RESOURCE_EXHAUSTED;
            } else if (rc == Z_STREAM_END) {
                done = true;
            } else if (rc == Z_BUF_ERROR && zs.avail_out == 0) {
                continue; /* output full: grow and go on */
            } else if (rc != Z_OK) {
                snprintf(msg, msglen, "invalid %s message: %s", gzip ? "gzip" : "deflate",
                         zs.msg ? zs.msg : "corrupt data");
                status = GRPC_STATUS_INVALID_ARGUMENT;
            }
        }
    }
    inflateEnd(&zs);
    if (!buf && status == GRPC_STATUS_OK) {
        snprintf(msg, msglen, "out of memory; retry later");
        status = GRPC_STATUS_UNAVAILABLE;
    }
    if (status == GRPC_STATUS_OK && seen && !done) {
        snprintf(msg, msglen, "invalid %s message: truncated stream", gzip ? "gzip" : "deflate");
        status = GRPC_STATUS_INVALID_ARGUMENT;
    }
    if (status == GRPC_STATUS_RESOURCE_EXHAUSTED)
        snprintf(msg, msglen, "request message larger than max_recv_msg_size_mib after "
                 "decompression: more than %zu bytes", max);
    if (status != GRPC_STATUS_OK || n == 0) {
        free(buf);
        return status;
    }
    /* the batch keeps this buffer for its life: give back what doubling over-allocated */
    uint8_t *fit = n < cap ? realloc(buf, n) : buf;
    *out = fit ? fit : buf;
    *len = n;
    return GRPC_STATUS_OK;
}

int otlp_grpc_read_message(grpc_byte_buffer *bb, size_t max, uint8_t **out, size_t *len,
                           char *msg, size_t msglen)
{
    *out = NULL;
    *len = 0;
    msg[0] = '\0';
    if (!bb)
        return GRPC_STATUS_OK; /* the client sent no message: an empty request */
    grpc_compression_algorithm algo = bb->type == GRPC_BB_RAW ? bb->data.raw.compression
                                                               : GRPC_COMPRESS_NONE;
    if (algo == GRPC_COMPRESS_NONE) {
        /* core's own limit already applied to these bytes; checked again for direct callers */
        if (grpc_byte_buffer_length(bb) > max) {
            snprintf(msg, msglen, "request message larger than max_recv_msg_size_mib: %zu bytes, "
                     "the limit is %zu", grpc_byte_buffer_length(bb), max);
            return GRPC_STATUS_RESOURCE_EXHAUSTED;
        }
        if (!copy_slices(bb, out, len)) {
            snprintf(msg, msglen, "cannot read the request message; retry later");
            return GRPC_STATUS_UNAVAILABLE;
        }
        return GRPC_STATUS_OK;
    }
    if (algo != GRPC_COMPRESS_GZIP && algo != GRPC_COMPRESS_DEFLATE) {
        /* core refuses encodings it does not know before we see them; this is for any it
         * learns later (as gRPC answers an algorithm it cannot decompress) */
        const char *name = NULL;
        grpc_compression_algorithm_name(algo, &name);
        snprintf(msg, msglen, "compression algorithm \"%s\" is not supported (gzip, deflate)",
                 name ? name : "?");
        return GRPC_STATUS_UNIMPLEMENTED;
    }
    return inflate_slices(bb, algo == GRPC_COMPRESS_GZIP, max, out, len, msg, msglen);
}

static void handle_export(struct gs_call *c)
{
    struct otlp_grpc_server *s = c->w->srv;
    uint8_t *data;
    size_t len;
    char msg[300];
    /* Admission budget (core/membudget.h): the message as received is held before it is copied
     * or inflated, and what inflating added once its size is known; given back after the
     * pipeline answered (a queue that kept the batch holds its own share). */
    struct membudget *mb = membudget_process();
    uint64_t held = c->req ? grpc_byte_buffer_length(c->req) : 0;
    if (!membudget_try_acquire(mb, held)) {
        finish(c, GRPC_STATUS_UNAVAILABLE, "memory budget exhausted (memory_limiter); retry later",
               NULL, 0, 1000000000);
        return;
    }
    int st = otlp_grpc_read_message(c->req, s->max_recv, &data, &len, msg, sizeof msg);
    if (st != GRPC_STATUS_OK) {
        membudget_release(mb, held);
        log_debug(s->log_name, "gRPC %s request refused: %s", signal_name((enum signal)c->kind), msg);
        if (s->refused && st != GRPC_STATUS_UNAVAILABLE)
            s->refused(s->user, (enum signal)c->kind, msg);
        finish(c, st, msg, NULL, 0, st == GRPC_STATUS_UNAVAILABLE ? 1000000000 : 0);
        return;
    }
    if (len > held) {
        if (!membudget_try_acquire(mb, len - held)) {
            free(data);
            membudget_release(mb, held);
            finish(c, GRPC_STATUS_UNAVAILABLE, "memory budget exhausted (memory_limiter); retry "
                   "later", NULL, 0, 1000000000);
            return;
        }
        held = len;
    }
    struct otlp_export_result res;
    s->fn(s->user, (enum signal)c->kind, data, len, &res);
    membudget_release(mb, held);
    finish(c, res.status, res.message, res.response, res.response_len, res.retry_delay_ns);
}

static void *worker_main(void *arg)
{
    struct gs_worker *w = arg;
    struct otlp_grpc_server *s = w->srv;
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(w->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        struct gs_call *c = ev.tag;
        if (c->finishing || !ev.success) {
            /* final batch done, or a posted request cancelled by shutdown */
            call_free(c);
        } else {
            if (!atomic_load(&s->stopping))
                post(w, c->kind); /* keep the slot count before working on this call */
            if (c->kind == GS_GENERIC)
                handle_generic(c);
            else
                handle_export(c);
        }
        tags_done(s);
    }
    return NULL;
}

/* ---- set-up ----------------------------------------------------------------------------------- */

/* ---- authentication --------------------------------------------------------------------------- */

/* A call's metadata as the authenticator reads it: values copied out of their slices into
 * NUL-terminated strings, freed after the decision. Keys are lowercase on the wire. */
struct gs_auth_src {
    const grpc_metadata *md;
    size_t n;
    char *copies[4];
    size_t ncopies;
};

static const char *auth_md(void *ctx, const char *name)
{
    struct gs_auth_src *a = ctx;
    size_t nl = strlen(name);
    for (size_t i = 0; i < a->n; i++) {
        grpc_slice k = a->md[i].key;
        if (GRPC_SLICE_LENGTH(k) != nl || strncasecmp((const char *)GRPC_SLICE_START_PTR(k), name, nl))
            continue;
        if (a->ncopies == sizeof a->copies / sizeof a->copies[0])
            return NULL;
        size_t vl = GRPC_SLICE_LENGTH(a->md[i].value);
        char *v = malloc(vl + 1);
        if (!v)
            return NULL;
        memcpy(v, GRPC_SLICE_START_PTR(a->md[i].value), vl);
        v[vl] = '\0';
        a->copies[a->ncopies++] = v;
        return v;
    }
    return NULL;
}

/* gRPC core's auth metadata processor: it runs in the server's auth filter on the call's initial
 * metadata, before the call is matched to a posted request and before its message is assembled,
 * so a refused call is answered UNAUTHENTICATED and its stream reset: what the client already
 * sent is dropped by the transport as it arrives, never gathered, inflated or decoded. */
static void auth_process(void *state, grpc_auth_context *context, const grpc_metadata *md,
                         size_t num_md, grpc_process_auth_metadata_done_cb cb, void *user_data)
{
    (void)context;
    struct otlp_grpc_server *s = state;
    struct gs_auth_src src = {.md = md, .n = num_md};
    char why[256] = "";
    int rc = otlp_receiver_authenticate(s->user, s->auth, auth_md, &src, why, sizeof why);
    for (size_t i = 0; i < src.ncopies; i++) {
        explicit_bzero(src.copies[i], strlen(src.copies[i]));
        free(src.copies[i]);
    }
    if (rc == 0)
        cb(user_data, NULL, 0, NULL, 0, GRPC_STATUS_OK, NULL);
    else
        cb(user_data, NULL, 0, NULL, 0, GRPC_STATUS_UNAUTHENTICATED, why);
}

/* Builds the config gRPC core asked for from the current set (core copies the strings). */
static int make_cert_config(void *ctx, const struct tls_material *m)
{
    grpc_ssl_server_certificate_config **out = ctx;
    grpc_ssl_pem_key_cert_pair pair = {.private_key = m->key, .cert_chain = m->cert};
    /* Core 1.51 asserts that a fetched config has root certificates even when clients are not
     * asked for one: without a client CA, the server's own chain stands in (a well-formed PEM
     * that nothing verifies against, as the request type is then DONT_REQUEST). */
    *out = grpc_ssl_server_certificate_config_create(m->ca ? m->ca : m->cert, &pair, 1);
    return *out ? 0 : -1;
}

/* gRPC core's certificate config fetcher, called at every new handshake (and once when the port
 * is added, which must answer NEW): NEW with a fresh config when the watched files brought a set
 * that core has not seen, UNCHANGED otherwise. A set that fails to load never becomes current
 * (tls_reload keeps the old one and warns), so core is not asked to swap to a broken one. */
static grpc_ssl_certificate_config_reload_status fetch_cert_config(
    void *user, grpc_ssl_server_certificate_config **config)
{
    struct otlp_grpc_server *s = user;
    *config = NULL;
    int rc = tls_reload_check(&s->tls, &s->tls_seen, make_cert_config, config);
    return rc > 0 ? GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_NEW
           : rc == 0 ? GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_UNCHANGED
                     : GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_FAIL;
}

/* TLS always goes through the fetcher, reloading or not: one path, and without reload_interval
 * or client_ca_file_reload the set simply never changes. */
static grpc_server_credentials *make_credentials(struct otlp_grpc_server *s,
                                                 const struct otlp_grpc_config *cfg,
                                                 struct error *err)
{
    if (!cfg->has_tls)
        return grpc_insecure_server_credentials_create();
    const struct tls_server_config *t = &cfg->tls;
    if (tls_reload_init(&s->tls, t, "protocols.grpc.tls", s->log_name, err) != 0)
        return NULL;
    grpc_ssl_server_credentials_options *o =
        grpc_ssl_server_credentials_create_options_using_config_fetcher(
            tls_set(t->client_ca_file) ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                       : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
            fetch_cert_config, s);
    grpc_server_credentials *cr = o ? grpc_ssl_server_credentials_create_with_options(o) : NULL;
    if (!cr)
        error_set(err, "protocols.grpc.tls: gRPC refused the certificate or key");
    return cr;
}

/* The address as gRPC core wants it: ":4317" listens on every interface, transport unix
 * makes the endpoint a socket path. */
static void listen_address(const struct otlp_grpc_config *cfg, char *out, size_t len)
{
    const char *ep = cfg->endpoint;
    if (cfg->transport && strcmp(cfg->transport, "unix") == 0 && strncmp(ep, "unix:", 5) != 0)
        snprintf(out, len, "unix:%s", ep);
    else if (ep[0] == ':')
        snprintf(out, len, "0.0.0.0%s", ep);
    else
        snprintf(out, len, "%s", ep);
}

static int ms_arg(int64_t ns)
{
    int64_t ms = ns / 1000000;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

static void drain(grpc_completion_queue *cq)
{
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN)
        ;
}

/* Frees a server that never started or has been shut down (its workers joined). */
static void server_release(struct otlp_grpc_server *s)
{
    if (s->server)
        grpc_server_destroy(s->server);
    for (size_t i = 0; i < s->nqueues; i++) {
        if (!s->workers[i].drained)
            drain(s->workers[i].cq);
        grpc_completion_queue_destroy(s->workers[i].cq);
    }
    if (s->shutdown_cq) { /* a pluck queue: drained with pluck, never next */
        grpc_completion_queue_shutdown(s->shutdown_cq);
        while (grpc_completion_queue_pluck(s->shutdown_cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL)
                   .type != GRPC_QUEUE_SHUTDOWN)
            ;
        grpc_completion_queue_destroy(s->shutdown_cq);
    }
    tls_reload_destroy(&s->tls); /* after the server: no handshake can ask the fetcher now */
    unix_socket_remove(&s->sock_file); /* a start that failed after the bind */
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->mu);
    free(s->workers);
    free(s);
}

struct otlp_grpc_server *otlp_grpc_server_start(const struct otlp_grpc_config *cfg, unsigned signals,
                                                otlp_export_fn fn, otlp_refused_fn refused,
                                                void *user, const char *log_name,
                                                struct error *err)
{
    if (!cfg->endpoint || !*cfg->endpoint) {
        error_set(err, "protocols.grpc.endpoint: must not be empty");
        return NULL;
    }
    struct otlp_grpc_server *s = calloc(1, sizeof *s);
    size_t nthreads = cfg->num_threads > 0 ? (size_t)cfg->num_threads : 1;
    if (!s || !(s->workers = calloc(nthreads, sizeof *s->workers))) {
        free(s);
        error_set(err, "out of memory");
        return NULL;
    }
    s->signals = signals;
    s->fn = fn;
    s->refused = refused;
    s->user = user;
    s->log_name = log_name;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->idle, NULL);

    /* gRPC takes an int: anything from 2 GiB up means "no practical limit". */
    int64_t max_recv = cfg->max_recv_msg_size_mib >= 2048 ? INT_MAX
                                                          : cfg->max_recv_msg_size_mib * 1024 * 1024;
    grpc_arg args[16];
    size_t na = 0;
#define INT_ARG(k, v) (args[na++] = (grpc_arg){.type = GRPC_ARG_INTEGER, .key = (char *)(k), .value.integer = (v)})
    s->max_recv = (size_t)max_recv;
    /* Core's limit then applies to the message as it is on the wire, and ours to what it
     * inflates to (otlp_grpc_read_message): core itself would inflate a bomb whole first. */
    INT_ARG(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, max_recv > INT_MAX ? INT_MAX : (int)max_recv);
    INT_ARG(GRPC_ARG_ENABLE_PER_MESSAGE_DECOMPRESSION, 0);
    /* Without this, a second instance could bind the same port and silently share it. */
    INT_ARG(GRPC_ARG_ALLOW_REUSEPORT, 0);
    if (cfg->max_concurrent_streams > 0)
        INT_ARG(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                cfg->max_concurrent_streams > INT_MAX ? INT_MAX : (int)cfg->max_concurrent_streams);
    const struct otlp_keepalive_config *ka = &cfg->keepalive;
    if (ka->server_parameters.max_connection_idle > 0)
        INT_ARG(GRPC_ARG_MAX_CONNECTION_IDLE_MS, ms_arg(ka->server_parameters.max_connection_idle));
    if (ka->server_parameters.max_connection_age > 0)
        INT_ARG(GRPC_ARG_MAX_CONNECTION_AGE_MS, ms_arg(ka->server_parameters.max_connection_age));
    if (ka->server_parameters.max_connection_age_grace > 0)
        INT_ARG(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                ms_arg(ka->server_parameters.max_connection_age_grace));
    if (ka->server_parameters.time > 0)
        INT_ARG(GRPC_ARG_KEEPALIVE_TIME_MS, ms_arg(ka->server_parameters.time));
    if (ka->server_parameters.timeout > 0)
        INT_ARG(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, ms_arg(ka->server_parameters.timeout));
    if (ka->enforcement_policy.min_time > 0)
        INT_ARG(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                ms_arg(ka->enforcement_policy.min_time));
    if (ka->enforcement_policy.permit_without_stream)
        INT_ARG(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
#undef INT_ARG
    grpc_channel_args ca = {.num_args = na, .args = args};
    s->server = grpc_server_create(&ca, NULL);

    for (int k = 0; k < SIGNAL_COUNT; k++)
        if (signals & (1u << k))
            s->method[k] = grpc_server_register_method(s->server, otlp_grpc_method((enum signal)k), NULL,
                                                       GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0);
    for (size_t i = 0; i < nthreads; i++) {
        s->workers[i].srv = s;
        s->workers[i].cq = grpc_completion_queue_create_for_next(NULL);
        grpc_server_register_completion_queue(s->server, s->workers[i].cq, NULL);
        s->nqueues++;
    }
    s->shutdown_cq = grpc_completion_queue_create_for_pluck(NULL);

    char addr[1100];
    listen_address(cfg, addr, sizeof addr);
    grpc_server_credentials *cr = make_credentials(s, cfg, err);
    if (cr && cfg->has_auth && cfg->auth.server) {
        s->auth = &cfg->auth;
        grpc_server_credentials_set_auth_metadata_processor(
            cr, (grpc_auth_metadata_processor){.process = auth_process, .state = s});
    }
    if (!cr) {
        server_release(s);
        return NULL;
    }
    /* gRPC core removes any socket file at the path, even one a live process serves; the
     * check first makes that a stale one only, and says why when it is not. */
    const char *upath = strncmp(addr, "unix:", 5) == 0 ? addr + 5 : NULL;
    if (upath && unix_socket_clear_stale(upath, err) != 0) {
        grpc_server_credentials_release(cr);
        server_release(s);
        return NULL;
    }
    s->port = grpc_server_add_http2_port(s->server, addr, cr);
    grpc_server_credentials_release(cr);
    if (s->port <= 0) {
        error_set(err, "cannot listen on %s", cfg->endpoint);
        server_release(s);
        return NULL;
    }
    if (upath)
        unix_socket_adopt(upath, &s->sock_file);
    grpc_server_start(s->server);
    s->started = true;

    /* Threads first, requests after: if a thread cannot start, nothing is posted yet, so the
     * shutdown below has no tag to wait for on a queue that nobody drains. */
    for (size_t i = 0; i < nthreads; i++) {
        if (pthread_create(&s->workers[i].thread, NULL, worker_main, &s->workers[i]) != 0) {
            error_set(err, "cannot start gRPC worker thread");
            otlp_grpc_server_shutdown(s, clock_now_ns());
            server_release(s);
            return NULL;
        }
        s->nworkers++;
    }
    for (size_t i = 0; i < nthreads; i++) {
        for (int k = 0; k < SIGNAL_COUNT; k++)
            if (s->method[k])
                for (int j = 0; j < GS_PREPOST; j++)
                    post(&s->workers[i], k);
        post(&s->workers[i], GS_GENERIC);
    }
    return s;
}

int otlp_grpc_server_port(const struct otlp_grpc_server *s) { return s ? s->port : 0; }

void otlp_grpc_server_shutdown(struct otlp_grpc_server *s, int64_t deadline_ns)
{
    if (!s || s->shut_down)
        return;
    s->shut_down = true;
    atomic_store(&s->stopping, true);
    if (!s->started)
        return;

    /* Stop accepting (GOAWAY); calls in flight may finish until the deadline. An idle client
     * connection can hold the notification back for seconds, so the wait is bounded. */
    static int shutdown_tag;
    grpc_server_shutdown_and_notify(s->server, s->shutdown_cq, &shutdown_tag);
    int64_t left = deadline_ns - clock_now_ns();
    if (left < 0)
        left = 0;
    gpr_timespec until = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_nanos(left, GPR_TIMESPAN));
    grpc_event ev = grpc_completion_queue_pluck(s->shutdown_cq, &shutdown_tag, until, NULL);
    /* listeners are closed once shutdown was asked; the path is free for a new instance */
    unix_socket_remove(&s->sock_file);
    if (ev.type == GRPC_QUEUE_TIMEOUT) {
        log_info(s->log_name, "shutdown deadline reached: cancelling gRPC calls still open");
        grpc_server_cancel_all_calls(s->server);
        grpc_completion_queue_pluck(s->shutdown_cq, &shutdown_tag, gpr_inf_future(GPR_CLOCK_REALTIME),
                                    NULL);
    }

    /* Handlers still inside the pipeline will start one more batch (it fails fast on a cancelled
     * call); wait for them and for every posted request to come back. */
    pthread_mutex_lock(&s->mu);
    while (s->outstanding > 0)
        pthread_cond_wait(&s->idle, &s->mu);
    pthread_mutex_unlock(&s->mu);

    for (size_t i = 0; i < s->nworkers; i++)
        grpc_completion_queue_shutdown(s->workers[i].cq);
    for (size_t i = 0; i < s->nworkers; i++) {
        pthread_join(s->workers[i].thread, NULL);
        s->workers[i].drained = true;
    }
}

void otlp_grpc_server_free(struct otlp_grpc_server *s)
{
    if (!s)
        return;
    otlp_grpc_server_shutdown(s, clock_now_ns());
    server_release(s);
}
