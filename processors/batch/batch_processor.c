/* batch_processor.c — the Collector's `batch` processor: requests of one pipeline are gathered
 * until send_batch_size items are pending (sent at once, on the caller's thread) or `timeout` has
 * passed since the first of them (sent by a timer thread), and cut to send_batch_max_size.
 *
 * The one idea: merging never decodes. Pending data is kept as one growing encoded request, since
 * the encoded bytes of several Export*ServiceRequests laid end to end are one valid request
 * (otlp_merge.h); splitting cuts between resource entries and decodes only an entry that alone is
 * too large. Each request is copied at most once: into the pending buffer (sized from the last
 * batch, so it does not regrow), which is then sent as it is; a request that alone meets
 * send_batch_size while nothing is pending is forwarded itself, not copied. Downstream refusals are answered, not swallowed: data that was refused goes back to
 * the front of the pending buffer for the next tick (bounded in size and time), and a size-
 * triggered send that delivered nothing hands the refusal back to the sender. */
#include "processors/batch/batch_processor.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/batch.h"
#include "core/log.h"
#include "core/otlp_merge.h"
#include "core/telemetry.h"

#define NS_PER_MS 1000000LL

static const struct config_field batch_fields[] = {
    {.name = "send_batch_size", .type = CFG_INT,
     .offset = offsetof(struct batch_processor_config, send_batch_size), .def = "8192", .min = 0,
     .max = UINT32_MAX,
     .doc = "items (spans, data points, log records) that trigger a send; 0: only timeout does"},
    {.name = "send_batch_max_size", .type = CFG_INT,
     .offset = offsetof(struct batch_processor_config, send_batch_max_size), .def = "0", .min = 0,
     .max = UINT32_MAX,
     .doc = "upper limit of items per sent request, larger ones are split; 0: no limit"},
    {.name = "timeout", .type = CFG_DURATION,
     .offset = offsetof(struct batch_processor_config, timeout), .def = "200ms", .min = 0,
     .max = INT64_MAX, .doc = "time after the first pending item when pending data is sent"},
    {.name = "metadata_keys", .type = CFG_STRING_LIST,
     .offset = offsetof(struct batch_processor_config, metadata_keys),
     .doc = "client metadata keys to batch by (case-insensitive, no duplicates); the receivers "
            "pass no client metadata, so every request falls in one batch (warned about)"},
    {.name = "metadata_cardinality_limit", .type = CFG_INT,
     .offset = offsetof(struct batch_processor_config, metadata_cardinality_limit), .def = "1000",
     .min = 0, .max = INT64_MAX,
     .doc = "distinct metadata_keys value combinations batched apart at most (only one ever "
            "occurs: no request carries client metadata)"},
    {.name = NULL},
};

static int batch_validate(const void *cfgp, struct error *err)
{
    const struct batch_processor_config *cfg = cfgp;
    if (cfg->send_batch_max_size > 0 && cfg->send_batch_max_size < cfg->send_batch_size)
        return error_set(err,
                         "send_batch_max_size (%" PRId64 ") must be greater or equal to "
                         "send_batch_size (%" PRId64 ")",
                         cfg->send_batch_max_size, cfg->send_batch_size);
    /* As the Collector: keys are case-insensitive, and a key listed twice is a mistake. */
    for (size_t i = 0; i < cfg->metadata_keys.n; i++)
        for (size_t j = 0; j < i; j++)
            if (strcasecmp(cfg->metadata_keys.items[i], cfg->metadata_keys.items[j]) == 0)
                return error_set(err, "metadata_keys: duplicate entry \"%s\" (keys are "
                                      "case-insensitive)", cfg->metadata_keys.items[i]);
    return 0;
}

/* metadata_keys is accepted: in the Collector a request whose receiver does not include client
 * metadata has no value for any key, and all such requests share one batch. Our receivers never
 * pass client metadata (their include_metadata has no effect), so that is what happens here for
 * every request, and the user, who asked for one batch per tenant, is told. */
static void batch_warn(const void *cfgp, const struct cnode *node, const struct config_warn_sink *w)
{
    const struct batch_processor_config *cfg = cfgp;
    if (cfg->metadata_keys.n == 0)
        return;
    config_warnf(w, cnode_find_key(node, "metadata_keys"), "metadata_keys",
                 "every request is batched together: the receivers pass no client metadata "
                 "downstream, so no request has a value for these keys (as in the Collector "
                 "when include_metadata is false)");
}

struct batch_processor {
    struct batch_processor_config cfg;
    char *log_name;
    enum signal signal;
    struct consumer *next;
    uint64_t keep_limit;       /* pending items beyond which refused data is dropped */
    int64_t retry_limit_ns;    /* how long refused data may wait for the downstream */

    pthread_mutex_t lock;      /* guards everything below */
    pthread_cond_t wake;       /* timer: pending became non-empty, or stopping */
    struct otlp_buf pending;
    size_t last_len;           /* bytes of the last request sent: sizes the next pending buffer */
    int64_t first_ns;          /* arrival of the oldest pending data; 0 when none */
    int64_t retry_since_ns;    /* first refusal of data still pending; 0 when none */
    bool stopping;
    bool timer_started;
    pthread_t timer;

    _Atomic uint64_t *batches_sent;
    _Atomic uint64_t *size_trigger;
    _Atomic uint64_t *timeout_trigger;
    _Atomic uint64_t *dropped;
};

static const char *const dropped_names[SIGNAL_COUNT] = {
    "otelcol_processor_batch_dropped_spans", "otelcol_processor_batch_dropped_metric_points",
    "otelcol_processor_batch_dropped_log_records"};

/* ---- sending --------------------------------------------------------------------------------- */

struct send_outcome {
    enum consume_status status; /* OK; RETRY when the downstream refused a chunk (the rest is in
                                   unsent); REJECT when only permanent refusals happened */
    size_t consumed;            /* chunks the downstream took or rejected for good */
    uint64_t rejected_items;
};

/* Sends data (ownership taken) downstream, cut to send_batch_max_size. Chunks are sent in order;
 * the first one refused with RETRY and every later one are appended to `unsent`, unsent. With
 * `hold`, each chunk's batch is shared while the downstream has it, so no processor edits it in
 * place: a refused chunk comes back in `unsent` as the very bytes that were sent. */
static struct send_outcome send_data(struct batch_processor *p, uint8_t *data, size_t len,
                                     uint64_t items, bool pooled, bool hold,
                                     struct otlp_buf *unsent)
{
    struct send_outcome o = {.status = CONSUME_OK};
    struct otlp_chunk one = {data, len, items}, *chunks = &one;
    size_t n = 1;
    uint64_t max = (uint64_t)p->cfg.send_batch_max_size;
    if (max > 0 && items > max) {
        struct error err = {0};
        if (otlp_split(p->signal, data, len, max, &chunks, &n, &err) == 0) {
            otlp_buf_data_free(data, pooled);
        } else {
            log_warn(p->log_name, "cannot split a request of %" PRIu64 " %s, sending it whole: %s",
                     items, signal_item_name(p->signal), err.msg);
            chunks = &one;
            n = 1;
        }
    }
    size_t i = 0;
    for (; i < n; i++) {
        struct otlp_chunk *c = &chunks[i];
        struct batch *b = c == &one && pooled
                              ? batch_adopt_pooled_wire(p->signal, c->data, c->len, c->items)
                              : batch_adopt_wire(p->signal, c->data, c->len, c->items);
        c->data = NULL; /* the batch owns it now */
        if (!b) {
            log_error(p->log_name, "out of memory: dropping %" PRIu64 " %s", c->items,
                      signal_item_name(p->signal));
            telemetry_add(p->dropped, c->items);
            o.rejected_items += c->items;
            o.consumed++;
            continue;
        }
        if (hold)
            batch_ref(b);
        enum consume_status st = consumer_send(p->next, b);
        if (hold)
            batch_unref(b); /* the batch stays alive: the next unref below is the last */
        if (st == CONSUME_OK) {
            telemetry_add(p->batches_sent, 1);
            o.consumed++;
            batch_unref(b);
            continue;
        }
        if (st == CONSUME_REJECT) {
            log_error(p->log_name, "downstream rejected %" PRIu64 " %s permanently; dropped",
                      c->items, signal_item_name(p->signal));
            telemetry_add(p->dropped, c->items);
            o.rejected_items += c->items;
            o.consumed++;
            batch_unref(b);
            continue;
        }
        /* RETRY: this chunk and the rest stay ours. The downstream may have re-encoded the
         * batch, so its bytes are read back through the batch. */
        const uint8_t *bytes;
        size_t blen;
        struct error err = {0};
        if (batch_encoded(b, &bytes, &blen, &err) != 0 ||
            otlp_buf_append(unsent, bytes, blen, b->items) != 0) {
            log_error(p->log_name, "cannot keep %" PRIu64 " refused %s: %s; dropped", c->items,
                      signal_item_name(p->signal), err.msg[0] ? err.msg : "out of memory");
            telemetry_add(p->dropped, c->items);
        }
        batch_unref(b);
        o.status = CONSUME_RETRY;
        for (size_t j = i + 1; j < n; j++) {
            if (otlp_buf_append(unsent, chunks[j].data, chunks[j].len, chunks[j].items) != 0) {
                log_error(p->log_name, "out of memory keeping %" PRIu64 " refused %s; dropped",
                          chunks[j].items, signal_item_name(p->signal));
                telemetry_add(p->dropped, chunks[j].items);
            }
        }
        break;
    }
    if (o.status == CONSUME_OK && o.rejected_items > 0 && o.consumed == n &&
        o.rejected_items == items)
        o.status = CONSUME_REJECT;
    if (chunks != &one)
        otlp_chunks_free(chunks, n);
    else
        otlp_buf_data_free(one.data, pooled); /* NULL unless nothing was sent */
    return o;
}

/* Puts refused data back in front of what is pending, or drops it when the downstream has been
 * refusing for too long or too much piled up. Caller holds p->lock. */
static void keep_refused_locked(struct batch_processor *p, struct otlp_buf *refused, int64_t now)
{
    if (refused->len == 0 && refused->items == 0)
        return;
    if (p->retry_since_ns == 0)
        p->retry_since_ns = now;
    bool too_long = now - p->retry_since_ns > p->retry_limit_ns;
    bool too_much = p->pending.items + refused->items > p->keep_limit;
    if (too_long || too_much) {
        log_error(p->log_name,
                  "downstream keeps refusing: dropping %" PRIu64 " %s (%s)", refused->items,
                  signal_item_name(p->signal),
                  too_long ? "retried longer than 10 x timeout" : "pending data over 4 x send_batch_size");
        telemetry_add(p->dropped, refused->items);
        otlp_buf_free(refused);
        p->retry_since_ns = 0;
        return;
    }
    if (otlp_buf_append(refused, p->pending.data, p->pending.len, p->pending.items) != 0) {
        log_error(p->log_name, "out of memory keeping %" PRIu64 " refused %s; dropped",
                  refused->items, signal_item_name(p->signal));
        telemetry_add(p->dropped, refused->items);
        otlp_buf_free(refused);
        return;
    }
    otlp_buf_free(&p->pending);
    p->pending = *refused;
    memset(refused, 0, sizeof *refused);
    p->first_ns = now; /* next attempt one timeout from now */
    pthread_cond_signal(&p->wake);
}

/* Takes everything pending and sends it; refused data goes back to pending. */
static void flush_pending(struct batch_processor *p, _Atomic uint64_t *trigger)
{
    pthread_mutex_lock(&p->lock);
    if (p->pending.len == 0 && p->pending.items == 0) {
        p->first_ns = 0;
        pthread_mutex_unlock(&p->lock);
        return;
    }
    uint8_t *data;
    size_t len;
    uint64_t items;
    bool pooled = p->pending.pooled;
    otlp_buf_release(&p->pending, &data, &len, &items);
    p->first_ns = 0;
    p->last_len = len;
    pthread_mutex_unlock(&p->lock);

    telemetry_add(trigger, 1);
    struct otlp_buf unsent = {0};
    struct send_outcome o = send_data(p, data, len, items, pooled, false, &unsent);

    pthread_mutex_lock(&p->lock);
    if (o.status == CONSUME_RETRY)
        keep_refused_locked(p, &unsent, clock_now_ns());
    else
        p->retry_since_ns = 0;
    pthread_mutex_unlock(&p->lock);
    otlp_buf_free(&unsent);
}

/* ---- timer ----------------------------------------------------------------------------------- */

static void abs_monotonic(int64_t ns, struct timespec *ts)
{
    ts->tv_sec = (time_t)(ns / 1000000000);
    ts->tv_nsec = (long)(ns % 1000000000);
}

static void *timer_main(void *arg)
{
    struct batch_processor *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stopping) {
        if (p->first_ns == 0) {
            pthread_cond_wait(&p->wake, &p->lock);
            continue;
        }
        int64_t due = p->first_ns + p->cfg.timeout;
        if (clock_now_ns() < due) {
            struct timespec ts;
            abs_monotonic(due, &ts);
            pthread_cond_timedwait(&p->wake, &p->lock, &ts);
            continue;
        }
        pthread_mutex_unlock(&p->lock);
        flush_pending(p, p->timeout_trigger);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* ---- life cycle ------------------------------------------------------------------------------ */

static void *batch_create(const void *cfgp, const struct component_env *env, struct error *err)
{
    const struct batch_processor_config *cfg = cfgp;
    if (batch_validate(cfg, err) != 0)
        return NULL;
    if (env->signal < 0 || env->signal >= SIGNAL_COUNT || !env->next[env->signal]) {
        error_set(err, "batch processor has no downstream consumer");
        return NULL;
    }
    struct batch_processor *p = calloc(1, sizeof *p);
    if (!p) {
        error_set(err, "out of memory");
        return NULL;
    }
    p->cfg = *cfg;
    p->cfg.metadata_keys = (struct config_str_list){0}; /* owned by the bound config, and empty */
    p->log_name = strdup(env->log_name ? env->log_name : "processor/batch");
    if (!p->log_name) {
        free(p);
        error_set(err, "out of memory");
        return NULL;
    }
    p->signal = env->signal;
    p->next = env->next[env->signal];
    uint64_t base = cfg->send_batch_size > 0 ? (uint64_t)cfg->send_batch_size : 8192;
    p->keep_limit = 4 * base;
    p->retry_limit_ns = 10 * cfg->timeout;
    if (p->retry_limit_ns < 1000 * NS_PER_MS)
        p->retry_limit_ns = 1000 * NS_PER_MS; /* timeout 0 (or tiny) still allows a retry */

    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->wake, &ca);
    pthread_condattr_destroy(&ca);

    if (env->telemetry) {
        char labels[512];
        snprintf(labels, sizeof labels, "processor=\"%s\"", env->id ? env->id : "batch");
        p->batches_sent = telemetry_counter(env->telemetry, "otelcol_processor_batch_batches_sent",
                                            labels, "Requests sent downstream by the batch processor");
        p->size_trigger =
            telemetry_counter(env->telemetry, "otelcol_processor_batch_batch_size_trigger_send",
                              labels, "Sends triggered by reaching send_batch_size");
        p->timeout_trigger =
            telemetry_counter(env->telemetry, "otelcol_processor_batch_timeout_trigger_send",
                              labels, "Sends triggered by the timeout");
        p->dropped = telemetry_counter(env->telemetry, dropped_names[p->signal], labels,
                                       "Items dropped after the downstream refused them");
    }
    return p;
}

static int batch_start(void *self, struct error *err)
{
    struct batch_processor *p = self;
    if (p->cfg.timeout <= 0)
        return 0; /* every consume sends at once */
    int rc = pthread_create(&p->timer, NULL, timer_main, p);
    if (rc != 0)
        return error_set(err, "cannot start the batch timer thread: %s", strerror(rc));
    p->timer_started = true;
    return 0;
}

/* An empty pending buffer comes from the block pool: the batch it becomes gives it back when the
 * exporter is done, for the next batch to fill without faulting its pages in again (refused data
 * put back may leave a malloc'd one in place until it is sent). Caller holds p->lock. */
static void pending_fresh_locked(struct batch_processor *p)
{
    if (!p->pending.data && p->pending.cap == 0)
        p->pending.pooled = true;
}

/* Appends a request to pending; a fresh pending buffer gets room for as much as the last batch
 * held, so a batch fills without regrowing. 0, or -1 on out of memory (pending unchanged).
 * Caller holds p->lock. */
static int pending_append_locked(struct batch_processor *p, const uint8_t *data, size_t len,
                                 uint64_t items)
{
    pending_fresh_locked(p);
    if (p->pending.cap == 0) {
        size_t want = p->last_len > len ? p->last_len : len;
        if (want > ((size_t)64 << 20))
            want = (size_t)64 << 20;
        if (otlp_buf_reserve(&p->pending, want) != 0)
            return -1;
    }
    return otlp_buf_append(&p->pending, data, len, items);
}

/* Sends the caller's own batch downstream, uncopied: nothing older is pending and it needs no
 * cutting. Answers as a size-triggered send of the same items would. */
static enum consume_status send_as_is(struct batch_processor *p, struct batch *b)
{
    uint64_t items = b->items;
    telemetry_add(p->size_trigger, 1);
    enum consume_status st = consumer_send(p->next, b);
    if (st == CONSUME_OK) {
        telemetry_add(p->batches_sent, 1);
        pthread_mutex_lock(&p->lock);
        p->retry_since_ns = 0;
        pthread_mutex_unlock(&p->lock);
    } else if (st == CONSUME_REJECT) {
        log_error(p->log_name, "downstream rejected %" PRIu64 " %s permanently; dropped", items,
                  signal_item_name(p->signal));
        telemetry_add(p->dropped, items);
    }
    return st;
}

static enum consume_status batch_consume(void *self, struct batch *b)
{
    struct batch_processor *p = self;
    const uint8_t *data;
    size_t len;
    struct error err = {0};
    if (batch_encoded(b, &data, &len, &err) != 0) {
        log_error(p->log_name, "cannot encode a %s request: %s", signal_name(p->signal), err.msg);
        return CONSUME_RETRY;
    }
    if (len == 0)
        return CONSUME_OK; /* an empty request adds nothing */

    pthread_mutex_lock(&p->lock);
    if (p->stopping) {
        /* Late data after shutdown began: nothing will flush it, so pass it on unbatched. */
        pthread_mutex_unlock(&p->lock);
        return consumer_send(p->next, b);
    }
    bool trigger = p->cfg.timeout <= 0 ||
                   (p->cfg.send_batch_size > 0 &&
                    p->pending.items + b->items >= (uint64_t)p->cfg.send_batch_size);
    if (!trigger) {
        if (pending_append_locked(p, data, len, b->items) != 0) {
            pthread_mutex_unlock(&p->lock);
            log_error(p->log_name, "out of memory buffering %" PRIu64 " %s", b->items,
                      signal_item_name(p->signal));
            return CONSUME_RETRY;
        }
        if (p->first_ns == 0) {
            p->first_ns = clock_now_ns();
            pthread_cond_signal(&p->wake);
        }
        pthread_mutex_unlock(&p->lock);
        return CONSUME_OK;
    }

    uint64_t max = (uint64_t)p->cfg.send_batch_max_size;
    size_t older_len = p->pending.len;
    uint64_t older_items = p->pending.items;
    if (older_len == 0 && older_items == 0 && (max == 0 || b->items <= max)) {
        /* Nothing older and nothing to cut: this request is the batch. */
        p->last_len = len;
        pthread_mutex_unlock(&p->lock);
        return send_as_is(p, b);
    }

    /* Size trigger: the older pending data and this request go out together, as one buffer:
     * this request is appended to the pending one, which is sent as it is. When it must be cut,
     * the pieces are new bytes, so the older data is kept aside first to be put back whole
     * should the downstream take nothing. */
    bool split = max > 0 && older_items + b->items > max;
    struct otlp_buf older = {0};
    pending_fresh_locked(p);
    if ((split && otlp_buf_append(&older, p->pending.data, older_len, older_items) != 0) ||
        otlp_buf_reserve(&p->pending, len) != 0) {
        pthread_mutex_unlock(&p->lock);
        otlp_buf_free(&older);
        log_error(p->log_name, "out of memory merging %" PRIu64 " %s", b->items,
                  signal_item_name(p->signal));
        return CONSUME_RETRY; /* pending unchanged */
    }
    otlp_buf_append(&p->pending, data, len, b->items); /* room reserved: cannot fail */
    uint8_t *mdata;
    size_t mlen;
    uint64_t mitems;
    bool mpooled = p->pending.pooled;
    otlp_buf_release(&p->pending, &mdata, &mlen, &mitems);
    p->first_ns = 0;
    p->last_len = mlen;
    pthread_mutex_unlock(&p->lock);

    telemetry_add(p->size_trigger, 1);
    struct otlp_buf unsent = {0};
    struct send_outcome o = send_data(p, mdata, mlen, mitems, mpooled, !split, &unsent);

    enum consume_status answer = CONSUME_OK;
    pthread_mutex_lock(&p->lock);
    int64_t now = clock_now_ns();
    if (o.status == CONSUME_OK) {
        p->retry_since_ns = 0;
    } else if (o.status == CONSUME_RETRY && o.consumed == 0) {
        /* Nothing left: the older data is pending again, this request was not taken. Unsplit,
         * the refused bytes are those sent (held, so unedited): older is their prefix. */
        if (!split && unsent.len == mlen) {
            unsent.len = older_len;
            unsent.items = older_items;
            keep_refused_locked(p, &unsent, now);
        } else if (split) {
            keep_refused_locked(p, &older, now);
        }
        answer = CONSUME_RETRY;
    } else if (o.status == CONSUME_RETRY) {
        /* Part went out, so this request is taken; the refused rest waits for the next tick. */
        keep_refused_locked(p, &unsent, now);
    } else if (o.status == CONSUME_REJECT) {
        /* Everything rejected (and counted by send_data): the sender learns it too. */
        answer = CONSUME_REJECT;
    }
    pthread_mutex_unlock(&p->lock);
    otlp_buf_free(&older);
    otlp_buf_free(&unsent);
    return answer;
}

static void sleep_ns(int64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000), .tv_nsec = (long)(ns % 1000000000)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void batch_shutdown(void *self, int64_t deadline_ns)
{
    struct batch_processor *p = self;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    if (p->timer_started) {
        pthread_join(p->timer, NULL);
        p->timer_started = false;
    }
    /* The exporters still run: hand them everything, retrying refusals until the deadline. */
    for (;;) {
        pthread_mutex_lock(&p->lock);
        uint8_t *data;
        size_t len;
        uint64_t items;
        bool pooled = p->pending.pooled;
        otlp_buf_release(&p->pending, &data, &len, &items);
        p->first_ns = 0;
        pthread_mutex_unlock(&p->lock);
        if (len == 0 && items == 0) {
            otlp_buf_data_free(data, pooled);
            return;
        }
        struct otlp_buf unsent = {0};
        struct send_outcome o = send_data(p, data, len, items, pooled, false, &unsent);
        if (o.status != CONSUME_RETRY) {
            otlp_buf_free(&unsent);
            return;
        }
        int64_t now = clock_now_ns();
        if (now >= deadline_ns) {
            log_error(p->log_name, "shutdown deadline passed: dropping %" PRIu64 " %s refused by "
                                   "the downstream", unsent.items, signal_item_name(p->signal));
            telemetry_add(p->dropped, unsent.items);
            otlp_buf_free(&unsent);
            return;
        }
        pthread_mutex_lock(&p->lock);
        p->pending = unsent; /* pending is empty: nothing else feeds a stopping processor */
        pthread_mutex_unlock(&p->lock);
        int64_t nap = deadline_ns - now;
        sleep_ns(nap < 20 * NS_PER_MS ? nap : 20 * NS_PER_MS);
    }
}

static void batch_destroy(void *self)
{
    struct batch_processor *p = self;
    if (!p)
        return;
    if (p->timer_started) {
        pthread_mutex_lock(&p->lock);
        p->stopping = true;
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
        pthread_join(p->timer, NULL);
    }
    if (p->pending.items > 0) {
        log_error(p->log_name, "dropping %" PRIu64 " %s still pending at destroy", p->pending.items,
                  signal_item_name(p->signal));
        telemetry_add(p->dropped, p->pending.items);
    }
    otlp_buf_free(&p->pending);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p->log_name);
    free(p);
}

const struct component_factory batch_processor_factory = {
    .type = "batch",
    .kind = COMPONENT_PROCESSOR,
    .doc = "merges requests by size or timeout, splits those above send_batch_max_size",
    .fields = batch_fields,
    .config_size = sizeof(struct batch_processor_config),
    .signals = (1u << SIGNAL_TRACES) | (1u << SIGNAL_METRICS) | (1u << SIGNAL_LOGS),
    .validate = batch_validate,
    .warn = batch_warn,
    .create = batch_create,
    .start = batch_start,
    .shutdown = batch_shutdown,
    .consume = batch_consume,
    .destroy = batch_destroy,
};
