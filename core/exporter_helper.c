/* exporter_helper.c — the queue, consumer threads and retry loop shared by every exporter, as the
 * Collector's exporterhelper.
 *
 * The one idea: every batch that consume() accepts ends in exactly one counter — sent, or
 * send_failed with a logged reason — because one place (deliver) owns a batch from the moment it
 * leaves the queue until it is settled, and shutdown settles whatever the queue still holds. All
 * waits (full queue, backoff sleep, drain) are condition-variable waits on the monotonic clock, so
 * shutdown can cut them short. */
#include "core/exporter_helper.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/telemetry.h"

/* ---- config tables --------------------------------------------------------------------------- */

const struct config_field retry_config_fields[] = {
    {.name = "enabled", .type = CFG_BOOL, .offset = offsetof(struct retry_config, enabled),
     .def = "true", .doc = "retry batches that failed with a retryable error"},
    {.name = "initial_interval", .type = CFG_DURATION,
     .offset = offsetof(struct retry_config, initial_interval), .def = "5s",
     .doc = "wait after the first failure"},
    {.name = "max_interval", .type = CFG_DURATION,
     .offset = offsetof(struct retry_config, max_interval), .def = "30s",
     .doc = "upper bound of the wait between attempts"},
    {.name = "max_elapsed_time", .type = CFG_DURATION,
     .offset = offsetof(struct retry_config, max_elapsed_time), .def = "300s",
     .doc = "give a batch up once retrying would pass this much time (0 = retry forever)"},
    {.name = "multiplier", .type = CFG_DOUBLE, .offset = offsetof(struct retry_config, multiplier),
     .def = "1.5", .doc = "growth of the wait after each failure"},
    {.name = "randomization_factor", .type = CFG_DOUBLE,
     .offset = offsetof(struct retry_config, randomization_factor), .def = "0.5",
     .doc = "jitter: each wait is drawn from interval * (1 +- factor)"},
    {.name = NULL},
};

static const char *const sizer_choices[] = {"requests", "items", "bytes", NULL};

const struct config_field queue_config_fields[] = {
    {.name = "enabled", .type = CFG_BOOL, .offset = offsetof(struct queue_config, enabled),
     .def = "true", .doc = "queue batches and send them from consumer threads"},
    {.name = "num_consumers", .type = CFG_INT, .offset = offsetof(struct queue_config, num_consumers),
     .def = "10", .doc = "consumer threads sending concurrently", .min = 1, .max = 1024},
    {.name = "queue_size", .type = CFG_INT, .offset = offsetof(struct queue_config, queue_size),
     .def = "1000", .doc = "capacity of the queue, in requests (batches)", .min = 1,
     .max = 100000000},
    {.name = "sizer", .type = CFG_ENUM, .offset = offsetof(struct queue_config, sizer),
     .def = "requests", .choices = sizer_choices,
     .doc = "unit of queue_size; only requests is supported"},
    {.name = "block_on_overflow", .type = CFG_BOOL,
     .offset = offsetof(struct queue_config, block_on_overflow), .def = "false",
     .doc = "when the queue is full, make the caller wait for space (until shutdown) instead of "
            "answering retry after overflow_wait"},
    {.name = "overflow_wait", .type = CFG_DURATION,
     .offset = offsetof(struct queue_config, overflow_wait), .def = "500ms",
     .doc = "how long a caller waits for space in a full queue before the batch is refused as "
            "retryable (llmotlp extension)"},
    {.name = "wait_for_result", .type = CFG_BOOL,
     .offset = offsetof(struct queue_config, wait_for_result), .def = "false",
     .doc = "accepted for compatibility and ignored: the caller is answered once the batch is "
            "queued"},
    {.name = "storage", .type = CFG_STRING, .offset = offsetof(struct queue_config, storage),
     .doc = "persistent queue storage extension; not supported yet (the queue stays in memory)"},
    {.name = "batch", .type = CFG_RAW, .offset = offsetof(struct queue_config, batch),
     .doc = "exporter-side batching; not supported yet (use the batch processor)"},
    {.name = NULL},
};

int retry_config_validate(const struct retry_config *r, struct error *err)
{
    if (!r->enabled)
        return 0;
    if (r->initial_interval <= 0)
        return error_set(err, "initial_interval must be positive");
    if (r->max_interval < r->initial_interval)
        return error_set(err, "max_interval must not be less than initial_interval");
    if (r->max_elapsed_time < 0)
        return error_set(err, "max_elapsed_time must not be negative");
    if (!(r->multiplier >= 1.0))
        return error_set(err, "multiplier must be at least 1");
    if (!(r->randomization_factor >= 0.0 && r->randomization_factor <= 1.0))
        return error_set(err, "randomization_factor must be between 0 and 1");
    return 0;
}

int queue_config_validate(const struct queue_config *q, struct error *err)
{
    if (!q->enabled)
        return 0;
    if (q->num_consumers < 1)
        return error_set(err, "num_consumers must be positive");
    if (q->queue_size < 1)
        return error_set(err, "queue_size must be positive");
    if (q->sizer != 0)
        return error_set(err, "sizer: only \"requests\" is supported (got \"%s\")",
                         sizer_choices[q->sizer]);
    if (q->overflow_wait < 0)
        return error_set(err, "overflow_wait must not be negative");
    return 0;
}

/* ---- retry policy ---------------------------------------------------------------------------- */

void retry_begin(struct retry_state *st, const struct retry_config *cfg, int64_t now_ns)
{
    st->started_ns = now_ns;
    st->interval_ns = cfg->initial_interval;
    st->attempts = 0;
}

int64_t retry_next_delay(struct retry_state *st, const struct retry_config *cfg, int64_t now_ns,
                         int64_t throttle_ns, double rand01)
{
    st->attempts++;
    if (!cfg->enabled)
        return -1;
    double interval = (double)st->interval_ns;
    double rf = cfg->randomization_factor;
    /* Drawn from [interval*(1-rf), interval*(1+rf)], as cenkalti/backoff does for the Collector. */
    int64_t delay = (int64_t)(interval * (1.0 - rf) + rand01 * (2.0 * rf * interval));
    if (delay < 0)
        delay = 0;
    /* The interval grows even when a throttle overrides this step, so the backoff that resumes
     * after the server's requested pause is where it would have been. */
    double next = interval * cfg->multiplier;
    if (next > (double)cfg->max_interval)
        next = (double)cfg->max_interval;
    st->interval_ns = (int64_t)next;
    if (throttle_ns > 0)
        delay = throttle_ns;
    if (cfg->max_elapsed_time > 0 && (now_ns - st->started_ns) + delay > cfg->max_elapsed_time)
        return -1;
    return delay;
}

/* ---- the helper ------------------------------------------------------------------------------ */

static const char *const item_metric_suffix[SIGNAL_COUNT] = {"spans", "metric_points",
                                                             "log_records"};

struct exporter_helper {
    char *log_name;
    char *id;
    struct queue_config q;
    struct retry_config r;
    export_send_fn send;
    void *ctx;

    pthread_mutex_t mu;
    pthread_cond_t not_empty;   /* consumers wait for work */
    pthread_cond_t not_full;    /* callers wait for space */
    pthread_cond_t wake;        /* backoff sleeps; broadcast on cancel */
    pthread_cond_t idle;        /* shutdown waits for consumers and callers to finish */

    struct batch **ring;
    size_t cap, head, len;

    pthread_t *threads;
    size_t nthreads;
    size_t running;             /* consumer threads not yet exited */
    size_t busy;                /* consumers holding a batch */
    size_t callers;             /* callers inside consume() (waiting for space or sending) */
    bool started;
    bool stopping;              /* shutdown begun: consume refuses */
    bool cancelled;             /* deadline reached: retries stop */
    bool shut;

    _Atomic uint64_t *sent[SIGNAL_COUNT];
    _Atomic uint64_t *send_failed[SIGNAL_COUNT];
    _Atomic uint64_t *enqueue_failed[SIGNAL_COUNT];
    _Atomic uint64_t *partial_rejected[SIGNAL_COUNT];
    _Atomic int64_t *queue_size_g;
    _Atomic int64_t *queue_capacity_g;

    /* Retry and overflow lines are rate-limited to one per second per helper. */
    _Atomic int64_t retry_log_at;
    _Atomic uint64_t retry_log_suppressed;
    _Atomic int64_t overflow_log_at;
    _Atomic uint64_t overflow_log_suppressed;
};

static double rand01(void)
{
    static _Thread_local uint64_t s;
    if (s == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        s = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)&s;
        s |= 1;
    }
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return (double)(s >> 11) / 9007199254740992.0; /* 2^53 */
}

static void abs_timespec(int64_t at_ns, struct timespec *ts)
{
    ts->tv_sec = (time_t)(at_ns / 1000000000);
    ts->tv_nsec = (long)(at_ns % 1000000000);
}

/* Waits on cv (mu held) until signalled or at_ns (monotonic). */
static void cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t at_ns)
{
    struct timespec ts;
    abs_timespec(at_ns, &ts);
    pthread_cond_timedwait(cv, mu, &ts);
}

/* "300s", "12.5s", "250ms" */
static void fmt_secs(int64_t ns, char *buf, size_t len)
{
    if (ns < 1000000000)
        snprintf(buf, len, "%" PRId64 "ms", ns / 1000000);
    else if (ns < 100 * 1000000000LL)
        snprintf(buf, len, "%.1fs", (double)ns / 1e9);
    else
        snprintf(buf, len, "%.0fs", (double)ns / 1e9);
}

static void settle_failed(struct exporter_helper *h, struct batch *b, unsigned attempts,
                          int64_t elapsed_ns, const char *reason)
{
    telemetry_add(h->send_failed[b->signal], b->items);
    char el[32];
    fmt_secs(elapsed_ns, el, sizeof el);
    log_error(h->log_name, "dropping %" PRIu64 " %s after %u attempt%s over %s: %s", b->items,
              signal_item_name(b->signal), attempts, attempts == 1 ? "" : "s", el, reason);
}

static bool should_log(_Atomic int64_t *at, _Atomic uint64_t *suppressed, uint64_t *n_suppressed)
{
    int64_t now = clock_now_ns();
    int64_t last = atomic_load(at);
    if (now - last < 1000000000 && last != 0) {
        atomic_fetch_add(suppressed, 1);
        return false;
    }
    if (!atomic_compare_exchange_strong(at, &last, now)) {
        atomic_fetch_add(suppressed, 1);
        return false;
    }
    *n_suppressed = atomic_exchange(suppressed, 0);
    return true;
}

/* Sends one batch until it is settled: sent, permanently failed, given up, or cut by the shutdown
 * deadline. Called without the lock; the caller keeps its reference. */
static void deliver(struct exporter_helper *h, struct batch *b)
{
    struct retry_state st;
    int64_t start = clock_now_ns();
    retry_begin(&st, &h->r, start);
    for (;;) {
        struct error err;
        error_clear(&err);
        int64_t throttle = 0;
        enum send_result res = h->send(h->ctx, b, &throttle, &err);
        int64_t now = clock_now_ns();
        if (res == SEND_OK) {
            telemetry_add(h->sent[b->signal], b->items);
            return;
        }
        if (res == SEND_PERMANENT) {
            char reason[1100];
            snprintf(reason, sizeof reason, "permanent error: %s", err.msg);
            settle_failed(h, b, st.attempts + 1, now - start, reason);
            return;
        }
        int64_t delay = retry_next_delay(&st, &h->r, now, throttle, rand01());
        if (delay < 0) {
            settle_failed(h, b, st.attempts, now - start, err.msg);
            return;
        }
        pthread_mutex_lock(&h->mu);
        bool cancelled = h->cancelled;
        if (!cancelled) {
            uint64_t skipped;
            if (should_log(&h->retry_log_at, &h->retry_log_suppressed, &skipped)) {
                char d[32];
                fmt_secs(delay, d, sizeof d);
                log_info(h->log_name,
                         "retrying %" PRIu64 " %s in %s after attempt %u failed%s: %s%s", b->items,
                         signal_item_name(b->signal), d, st.attempts,
                         throttle > 0 ? " (server-requested delay)" : "", err.msg,
                         skipped ? " (other retries not logged in the last second)" : "");
            }
            int64_t wake_at = now + delay;
            while (!h->cancelled && clock_now_ns() < wake_at)
                cond_wait_until(&h->wake, &h->mu, wake_at);
            cancelled = h->cancelled;
        }
        pthread_mutex_unlock(&h->mu);
        if (cancelled) {
            char reason[1100];
            snprintf(reason, sizeof reason, "shutdown deadline reached (last error: %s)", err.msg);
            settle_failed(h, b, st.attempts, clock_now_ns() - start, reason);
            return;
        }
    }
}

static void *consumer_main(void *arg)
{
    struct exporter_helper *h = arg;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (h->len == 0 && !h->stopping)
            pthread_cond_wait(&h->not_empty, &h->mu);
        if (h->cancelled || h->len == 0)
            break;
        struct batch *b = h->ring[h->head];
        h->ring[h->head] = NULL;
        h->head = (h->head + 1) % h->cap;
        h->len--;
        h->busy++;
        telemetry_set(h->queue_size_g, (int64_t)h->len);
        pthread_cond_signal(&h->not_full);
        pthread_mutex_unlock(&h->mu);

        deliver(h, b);
        batch_unref(b);

        pthread_mutex_lock(&h->mu);
        h->busy--;
        if (h->stopping)
            pthread_cond_broadcast(&h->idle);
    }
    h->running--;
    pthread_cond_broadcast(&h->idle);
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

struct exporter_helper *exporter_helper_new(const char *log_name, const char *id,
                                            const struct queue_config *q,
                                            const struct retry_config *r, export_send_fn send,
                                            void *ctx, struct telemetry *telemetry,
                                            struct error *err)
{
    struct exporter_helper *h = calloc(1, sizeof *h);
    if (!h) {
        error_set(err, "out of memory");
        return NULL;
    }
    h->log_name = strdup(log_name ? log_name : "exporter");
    h->id = strdup(id ? id : "");
    h->q = *q;
    h->q.storage = NULL; /* not owned: the bound config owns it */
    h->q.batch = NULL;
    h->r = *r;
    h->send = send;
    h->ctx = ctx;
    if (h->q.enabled) {
        if (h->q.queue_size < 1 || h->q.num_consumers < 1) {
            error_set(err, "sending_queue: queue_size and num_consumers must be positive");
            goto fail;
        }
        h->cap = (size_t)h->q.queue_size;
        h->ring = calloc(h->cap, sizeof *h->ring);
        h->threads = calloc((size_t)h->q.num_consumers, sizeof *h->threads);
        if (!h->ring || !h->threads) {
            error_set(err, "out of memory for a sending queue of %zu batches", h->cap);
            goto fail;
        }
    }
    if (!h->log_name || !h->id) {
        error_set(err, "out of memory");
        goto fail;
    }

    pthread_mutex_init(&h->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->not_empty, &ca);
    pthread_cond_init(&h->not_full, &ca);
    pthread_cond_init(&h->wake, &ca);
    pthread_cond_init(&h->idle, &ca);
    pthread_condattr_destroy(&ca);

    char labels[512];
    snprintf(labels, sizeof labels, "exporter=\"%s\"", h->id);
    for (int s = 0; s < SIGNAL_COUNT; s++) {
        char name[128];
        snprintf(name, sizeof name, "otelcol_exporter_sent_%s", item_metric_suffix[s]);
        h->sent[s] = telemetry_counter(telemetry, name, labels,
                                       "Items successfully delivered to the destination.");
        snprintf(name, sizeof name, "otelcol_exporter_send_failed_%s", item_metric_suffix[s]);
        h->send_failed[s] = telemetry_counter(
            telemetry, name, labels, "Items the exporter gave up on (permanent error, retries "
                                     "exhausted, or shutdown deadline).");
        snprintf(name, sizeof name, "otelcol_exporter_enqueue_failed_%s", item_metric_suffix[s]);
        h->enqueue_failed[s] = telemetry_counter(
            telemetry, name, labels,
            "Items refused because the sending queue was full or shutting down (the sender was "
            "told to retry).");
        snprintf(name, sizeof name, "otelcol_exporter_partial_rejected_%s", item_metric_suffix[s]);
        h->partial_rejected[s] = telemetry_counter(
            telemetry, name, labels,
            "Items the server rejected in an OK response (OTLP partial success); not retried.");
    }
    h->queue_size_g = telemetry_gauge(telemetry, "otelcol_exporter_queue_size", labels,
                                      "Current size of the sending queue (batches).");
    h->queue_capacity_g = telemetry_gauge(telemetry, "otelcol_exporter_queue_capacity", labels,
                                          "Capacity of the sending queue (batches).");
    telemetry_set(h->queue_size_g, 0);
    telemetry_set(h->queue_capacity_g, (int64_t)h->cap);
    return h;

fail:
    free(h->ring);
    free(h->threads);
    free(h->log_name);
    free(h->id);
    free(h);
    return NULL;
}

int exporter_helper_start(struct exporter_helper *h, struct error *err)
{
    if (!h->q.enabled || h->started)
        return 0;
    pthread_mutex_lock(&h->mu);
    h->started = true;
    for (size_t i = 0; i < (size_t)h->q.num_consumers; i++) {
        int rc = pthread_create(&h->threads[i], NULL, consumer_main, h);
        if (rc != 0) {
            pthread_mutex_unlock(&h->mu);
            /* The threads already running still drain; shutdown joins them. */
            return error_set(err, "cannot start consumer thread %zu: %s", i, strerror(rc));
        }
        h->nthreads++;
        h->running++;
    }
    pthread_mutex_unlock(&h->mu);
    return 0;
}

static void count_refused(struct exporter_helper *h, struct batch *b, const char *why)
{
    telemetry_add(h->enqueue_failed[b->signal], b->items);
    uint64_t skipped;
    if (should_log(&h->overflow_log_at, &h->overflow_log_suppressed, &skipped))
        log_warn(h->log_name, "refusing %" PRIu64 " %s (sender told to retry): %s%s", b->items,
                 signal_item_name(b->signal), why,
                 skipped ? " (other refusals not logged in the last second)" : "");
}

enum consume_status exporter_helper_consume(struct exporter_helper *h, struct batch *b)
{
    pthread_mutex_lock(&h->mu);
    if (h->stopping) {
        pthread_mutex_unlock(&h->mu);
        count_refused(h, b, "exporter is shutting down");
        return CONSUME_RETRY;
    }
    if (!h->q.enabled) {
        h->callers++;
        pthread_mutex_unlock(&h->mu);
        deliver(h, b);
        pthread_mutex_lock(&h->mu);
        h->callers--;
        pthread_cond_broadcast(&h->idle);
        pthread_mutex_unlock(&h->mu);
        return CONSUME_OK;
    }
    if (h->len == h->cap) {
        h->callers++;
        int64_t until = clock_now_ns() + h->q.overflow_wait;
        while (h->len == h->cap && !h->stopping) {
            if (h->q.block_on_overflow)
                pthread_cond_wait(&h->not_full, &h->mu);
            else if (clock_now_ns() < until)
                cond_wait_until(&h->not_full, &h->mu, until);
            else
                break;
        }
        h->callers--;
        pthread_cond_broadcast(&h->idle);
        if (h->len == h->cap || h->stopping) {
            bool stopping = h->stopping;
            pthread_mutex_unlock(&h->mu);
            count_refused(h, b, stopping ? "exporter is shutting down" : "sending queue is full");
            return CONSUME_RETRY;
        }
    }
    h->ring[(h->head + h->len) % h->cap] = batch_ref(b);
    h->len++;
    telemetry_set(h->queue_size_g, (int64_t)h->len);
    pthread_cond_signal(&h->not_empty);
    pthread_mutex_unlock(&h->mu);
    return CONSUME_OK;
}

void exporter_helper_shutdown(struct exporter_helper *h, int64_t deadline_ns)
{
    pthread_mutex_lock(&h->mu);
    if (h->shut) {
        pthread_mutex_unlock(&h->mu);
        return;
    }
    h->shut = true;
    h->stopping = true;
    pthread_cond_broadcast(&h->not_empty);
    pthread_cond_broadcast(&h->not_full);
    /* Drain: consumers exit once the queue is empty and their batch is settled. */
    while ((h->running > 0 || h->callers > 0) && clock_now_ns() < deadline_ns)
        cond_wait_until(&h->idle, &h->mu, deadline_ns);
    if (h->running > 0 || h->callers > 0 || h->len > 0) {
        h->cancelled = true;
        pthread_cond_broadcast(&h->wake);
        pthread_cond_broadcast(&h->not_empty);
        /* A send in flight ends at its own per-attempt timeout; then its batch is settled. */
        while (h->running > 0 || h->callers > 0)
            pthread_cond_wait(&h->idle, &h->mu);
    }
    size_t n = h->nthreads;
    pthread_mutex_unlock(&h->mu);
    for (size_t i = 0; i < n; i++)
        pthread_join(h->threads[i], NULL);

    /* Whatever is still queued was accepted and never attempted (or the helper never started). */
    uint64_t left_items[SIGNAL_COUNT] = {0}, left_batches[SIGNAL_COUNT] = {0};
    pthread_mutex_lock(&h->mu);
    while (h->len > 0) {
        struct batch *b = h->ring[h->head];
        h->ring[h->head] = NULL;
        h->head = (h->head + 1) % h->cap;
        h->len--;
        telemetry_add(h->send_failed[b->signal], b->items);
        left_items[b->signal] += b->items;
        left_batches[b->signal]++;
        batch_unref(b);
    }
    telemetry_set(h->queue_size_g, 0);
    pthread_mutex_unlock(&h->mu);
    for (int s = 0; s < SIGNAL_COUNT; s++)
        if (left_batches[s])
            log_error(h->log_name,
                      "dropping %" PRIu64 " %s in %" PRIu64
                      " queued batch%s never sent: shutdown deadline reached",
                      left_items[s], signal_item_name((enum signal)s), left_batches[s],
                      left_batches[s] == 1 ? "" : "es");
}

void exporter_helper_free(struct exporter_helper *h)
{
    if (!h)
        return;
    exporter_helper_shutdown(h, clock_now_ns());
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->not_empty);
    pthread_cond_destroy(&h->not_full);
    pthread_cond_destroy(&h->wake);
    pthread_cond_destroy(&h->idle);
    free(h->ring);
    free(h->threads);
    free(h->log_name);
    free(h->id);
    free(h);
}

size_t exporter_helper_queue_len(struct exporter_helper *h)
{
    pthread_mutex_lock(&h->mu);
    size_t n = h->len;
    pthread_mutex_unlock(&h->mu);
    return n;
}

void exporter_helper_partial_success(struct exporter_helper *h, const struct batch *b,
                                     const ProtobufCMessage *resp)
{
    int64_t rejected;
    const char *msg;
    if (!otlp_partial_success(b->signal, resp, &rejected, &msg))
        return;
    if (rejected <= 0 && !(msg && msg[0]))
        return;
    if (rejected > 0)
        telemetry_add(h->partial_rejected[b->signal], (uint64_t)rejected);
    log_warn(h->log_name, "partial success: server rejected %" PRId64 " of %" PRIu64 " %s (not retried): %s",
             rejected, b->items, signal_item_name(b->signal), msg && msg[0] ? msg : "(no message)");
}

int exporter_helper_validate(const struct retry_config *r, const struct queue_config *q,
                             struct error *err)
{
    if (retry_config_validate(r, err) != 0) {
        error_prefix(err, "retry_on_failure: ");
        return -1;
    }
    if (queue_config_validate(q, err) != 0) {
        error_prefix(err, "sending_queue: ");
        return -1;
    }
    return 0;
}
