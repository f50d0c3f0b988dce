/* exporter_helper.c — the queue, consumer threads and retry loop shared by every exporter, as the
 * Collector's exporterhelper.
 *
 * The one idea: every item that consume() accepts ends in exactly one counter — sent, or
 * send_failed with a logged reason — because one place owns it from the moment it leaves the
 * queue until it is settled (a consumer's group: one queued request, or several merged by the
 * batcher), and shutdown settles whatever the queue and the batcher still hold. Inside a group,
 * items are numbered in request order, and merging, cutting at max_size and halving a request
 * refused as bad data all keep that order; so every piece sent, failed or cut is a range of those
 * numbers, and a queued request is settled when its range is. All waits (full queue, backoff
 * sleep, flush timer, drain) are condition-variable waits on the monotonic clock, so shutdown can
 * cut them short.
 *
 * The persistent queue adds one rule: a batch's record is on disk from before consume() answers
 * OK until every item of it is settled (sent, or given up and counted), and only a settled
 * batch's record is removed — however its items were merged with others or cut apart. So whatever stops the process (SIGKILL, a shutdown deadline) leaves on disk
 * exactly the accepted batches not yet settled, and the next start queues them again, in the
 * order of their sequence numbers. A batch sent just before a crash, whose record was not yet
 * removed, is sent again: delivery across a crash is at least once, as in the Collector. */
#include "core/exporter_helper.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include <zlib.h>

#include "core/log.h"
#include "core/membudget.h"
#include "core/otlp_merge.h"
#include "core/telemetry.h"
#include "extensions/file_storage/file_storage.h"

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

static const struct config_field queue_partition_fields[] = {
    {.name = "metadata_keys", .type = CFG_STRING_LIST,
     .offset = offsetof(struct queue_partition_config, metadata_keys),
     .doc = "client metadata keys whose values select the batch (case-insensitive)"},
    {.name = NULL},
};

const struct config_field queue_batch_config_fields[] = {
    {.name = "flush_timeout", .type = CFG_DURATION,
     .offset = offsetof(struct queue_batch_config, flush_timeout), .def = "200ms",
     .doc = "send a pending batch this long after its first request joined, even below "
            "min_size (must be positive)"},
    {.name = "min_size", .type = CFG_INT, .offset = offsetof(struct queue_batch_config, min_size),
     .def = "8192", .min = 0, .max = INT64_MAX,
     .doc = "send as soon as this much is pending, in sizer units"},
    {.name = "max_size", .type = CFG_INT, .offset = offsetof(struct queue_batch_config, max_size),
     .def = "0", .min = 0, .max = INT64_MAX,
     .doc = "cut merged requests larger than this, in sizer units (0 = no limit; else at least "
            "min_size); a single item larger than a bytes limit is sent alone"},
    {.name = "sizer", .type = CFG_ENUM, .offset = offsetof(struct queue_batch_config, sizer),
     .def = "items", .choices = sizer_choices, .track_set = true,
     .set_offset = offsetof(struct queue_batch_config, sizer_set),
     .doc = "unit of min_size and max_size: items (spans, data points, log records), bytes "
            "(of the encoded requests) or requests; when not written, sending_queue.sizer if "
            "that is written (as in the Collector), else items"},
    {.name = "partition", .type = CFG_SECTION,
     .offset = offsetof(struct queue_batch_config, partition), .sub = queue_partition_fields,
     .doc = "batch apart the requests of each combination of client metadata values",
     .no_effect = "the receivers pass no client metadata downstream, so every request is in the "
                  "one partition of requests without metadata (as in the Collector when "
                  "include_metadata is false)"},
    {.name = NULL},
};

const struct config_field queue_config_fields[] = {
    {.name = "enabled", .type = CFG_BOOL, .offset = offsetof(struct queue_config, enabled),
     .def = "true", .doc = "queue batches and send them from consumer threads"},
    {.name = "num_consumers", .type = CFG_INT, .offset = offsetof(struct queue_config, num_consumers),
     .def = "10", .doc = "consumer threads sending concurrently", .min = 1, .max = 1024},
    {.name = "queue_size", .type = CFG_INT, .offset = offsetof(struct queue_config, queue_size),
     .def = "1000", .doc = "capacity of the queue, in sizer units (requests, items or bytes)",
     .min = 1, .max = INT64_MAX},
    {.name = "sizer", .type = CFG_ENUM, .offset = offsetof(struct queue_config, sizer),
     .def = "requests", .choices = sizer_choices, .track_set = true,
     .set_offset = offsetof(struct queue_config, sizer_set),
     .doc = "unit of queue_size: requests (batches), items (spans, data points, log records) or "
            "bytes (of the encoded requests); a request larger than the whole queue is refused "
            "as retryable and counted in enqueue_failed"},
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
     .doc = "true is refused: the caller is answered once the batch is queued (or on disk with "
            "storage); for an answer after delivery, set enabled: false"},
    {.name = "storage", .type = CFG_STRING, .offset = offsetof(struct queue_config, storage),
     .doc = "ID of a file_storage extension (listed in service.extensions) that keeps the queue "
            "on disk, so accepted batches survive a crash or restart"},
    {.name = "batch", .type = CFG_PRESENCE, .offset = offsetof(struct queue_config, batch),
     .present_offset = offsetof(struct queue_config, batch_enabled),
     .sub = queue_batch_config_fields, .track_set = true,
     .set_offset = offsetof(struct queue_config, batch_written),
     .doc = "merge queued requests before sending (`batch:` alone = defaults; absent = no "
            "merging); with storage, each request is on disk before it is acknowledged and its "
            "record is removed only once all its items are sent or counted failed"},
    {.name = NULL},
};

int retry_config_validate(const struct retry_config *r, struct error *err)
{
    /* The Collector's rules (configretry), no stricter: what it loads loads here. A max_interval
     * below initial_interval is fine (the first wait is initial_interval, the others are capped),
     * and so is a multiplier below 1 (shrinking waits). */
    if (!r->enabled)
        return 0;
    if (r->initial_interval < 0)
        return error_set(err, "initial_interval must not be negative");
    if (!(r->randomization_factor >= 0.0 && r->randomization_factor <= 1.0))
        return error_set(err, "randomization_factor must be between 0 and 1");
    if (!(r->multiplier >= 0.0))
        return error_set(err, "multiplier must not be negative");
    if (r->max_interval < 0)
        return error_set(err, "max_interval must not be negative");
    if (r->max_elapsed_time < 0)
        return error_set(err, "max_elapsed_time must not be negative");
    /* The Collector also refuses a max_elapsed_time below initial_interval or max_interval;
     * here it loads and means what it says (the batch is given up once the next wait would pass
     * it), which tests rely on to give up at once. */
    return 0;
}

int queue_batch_sizer(const struct queue_config *q)
{
    /* The Collector's rule (QueueBatchConfig.Unmarshal): a written queue sizer carries over to a
     * written, non-empty batch section that does not name its own. */
    if (q->sizer_set && q->batch_written && !q->batch.sizer_set)
        return q->sizer;
    return q->batch.sizer;
}

int queue_config_validate(const struct queue_config *q, struct error *err)
{
    if (!q->enabled)
        return 0;
    if (q->num_consumers < 1)
        return error_set(err, "num_consumers must be positive");
    if (q->queue_size < 1)
        return error_set(err, "queue_size must be positive");
    if (q->sizer < QUEUE_SIZER_REQUESTS || q->sizer > QUEUE_SIZER_BYTES)
        return error_set(err, "sizer: unknown sizer");
    if (q->sizer == QUEUE_SIZER_REQUESTS && q->queue_size > 100000000)
        return error_set(err, "queue_size must be at most 100000000 with sizer: requests");
    if (q->overflow_wait < 0)
        return error_set(err, "overflow_wait must not be negative");
    if (q->wait_for_result)
        return error_set(err, "wait_for_result: true is not supported: the caller is answered "
                         "once the batch is queued (on disk with storage); set enabled: false "
                         "for the caller to wait until the batch is delivered");
    if (q->batch_enabled) {
        const struct queue_batch_config *b = &q->batch;
        if (b->flush_timeout <= 0)
            return error_set(err, "batch.flush_timeout must be positive");
        if (b->min_size < 0)
            return error_set(err, "batch.min_size must not be negative");
        if (b->max_size < 0)
            return error_set(err, "batch.max_size must not be negative");
        if (b->max_size > 0 && b->max_size < b->min_size)
            return error_set(err, "batch.max_size (%lld) must be 0 (no limit) or at least "
                             "batch.min_size (%lld)", (long long)b->max_size,
                             (long long)b->min_size);
        int bs = queue_batch_sizer(q);
        if (bs < QUEUE_SIZER_REQUESTS || bs > QUEUE_SIZER_BYTES)
            return error_set(err, "batch.sizer: unknown sizer");
        /* As the Collector: a queue that cannot hold min_size would only ever send on timeout. */
        if (bs == q->sizer && b->min_size > q->queue_size)
            return error_set(err, "batch.min_size (%lld) must not exceed queue_size (%lld) when "
                             "both are counted in the same sizer", (long long)b->min_size,
                             (long long)q->queue_size);
    }
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

/* One queued batch; seq is its record's sequence number with storage, 0 without. size is in
 * sending_queue.sizer units; bytes is what it holds of the process's memory budget (released
 * when the batch is settled, not when it leaves the ring: a batch being sent or retried is still
 * in memory). */
struct qitem {
    struct batch *b;
    uint64_t seq;
    uint64_t size;
    uint64_t bytes;
};

struct member {
    struct batch *b;          /* one reference, owned by the group */
    uint64_t seq;             /* record sequence number; 0 = in memory */
    uint64_t off;             /* first item in the group's numbering; UINT64_MAX = settled apart */
    uint64_t cut;             /* items left unsettled by the shutdown deadline */
    uint64_t bytes;           /* held of the memory budget until the member is settled */
};

struct group {
    struct member *m;         /* &one, or a malloc'd array while batching */
    size_t n, cap;
    struct member one;
    uint64_t size;            /* in batch.sizer units */
    int64_t first_at;         /* when the first member joined (flush_timeout) */
};

struct exporter_helper {
    char *log_name;
    char *id;
    struct queue_config q;
    struct retry_config r;
    export_send_fn send;
    void *ctx;
    bool batching;              /* sending_queue.batch present (and the queue enabled) */
    struct queue_batch_config bc;

    pthread_mutex_t mu;
    pthread_cond_t not_empty;   /* consumers wait for work */
    pthread_cond_t not_full;    /* callers wait for space */
    pthread_cond_t wake;        /* backoff sleeps; broadcast on cancel */
    pthread_cond_t idle;        /* shutdown waits for consumers and callers to finish */

    struct qitem *ring;
    size_t cap;                 /* slots in ring; grows (items, bytes sizers, recovery) */
    uint64_t limit;             /* queue_size, in sizer units */
    uint64_t used;              /* sizer units of the ring and of the reserved slots */
    size_t head, len;
    size_t reserved;            /* slots promised to callers writing their record */
    struct membudget *budget;   /* the process's admission budget */
    struct group pend[SIGNAL_COUNT]; /* batching: taken from the ring, waiting to be merged */

    pthread_t *threads;
    size_t nthreads;
    size_t running;             /* consumer threads not yet exited */
    size_t busy;                /* consumers holding a batch */
    size_t callers;             /* callers inside consume() (waiting for space or sending) */
    bool started;
    bool stopping;              /* shutdown begun: consume refuses */
    bool cancelled;             /* deadline reached: retries stop */
    bool shut;

    /* Persistent queue (storage set and resolved); the clients and lock_fd are fixed after
     * start, next_seq and kept_* are under mu. */
    bool persistent;
    struct file_storage *storage;
    struct file_storage_client *client[SIGNAL_COUNT];
    int lock_fd;
    bool opened;                /* records loaded: new ones may be written */
    uint64_t next_seq;
    uint64_t kept_items[SIGNAL_COUNT], kept_batches[SIGNAL_COUNT];

    _Atomic uint64_t *sent[SIGNAL_COUNT];
    _Atomic uint64_t *send_failed[SIGNAL_COUNT];
    _Atomic uint64_t *enqueue_failed[SIGNAL_COUNT];
    _Atomic uint64_t *partial_rejected[SIGNAL_COUNT];
    _Atomic uint64_t *recovered[SIGNAL_COUNT];
    _Atomic uint64_t *corrupt;
    _Atomic int64_t *queue_size_g;
    _Atomic int64_t *queue_capacity_g;

    /* Retry and overflow lines are rate-limited to one per second per helper. */
    struct log_gate retry_log;
    struct log_gate overflow_log;
    struct log_gate reject_log;
    struct log_gate partial_log;
};

/* A batch's size in sending_queue.sizer units. Bytes are those of the encoded request, built
 * here (cached on the batch, and what an OTLP exporter sends anyway). */
static uint64_t qsize_of(const struct exporter_helper *h, struct batch *b)
{
    switch (h->q.sizer) {
    case QUEUE_SIZER_ITEMS:
        return b->items;
    case QUEUE_SIZER_BYTES: {
        const uint8_t *d;
        size_t len;
        struct error err;
        return batch_encoded(b, &d, &len, &err) == 0 ? len : 0;
    }
    default:
        return 1;
    }
}

/* Room for one more batch in the ring (mu held): doubles it, unwrapping the contents. Only the
 * items and bytes sizers grow it; with requests it has queue_size slots from the start. */
static int ring_room(struct exporter_helper *h)
{
    if (h->len < h->cap)
        return 0;
    size_t nc = h->cap ? h->cap * 2 : 64;
    struct qitem *nr = calloc(nc, sizeof *nr);
    if (!nr)
        return -1;
    for (size_t i = 0; i < h->len; i++)
        nr[i] = h->ring[(h->head + i) % h->cap];
    free(h->ring);
    h->ring = nr;
    h->cap = nc;
    h->head = 0;
    return 0;
}

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

/* ---- records of the persistent queue --------------------------------------------------------- */

#define PQ_MAGIC "LOQB"
#define PQ_VERSION 1
#define PQ_HEADER 32
#define PQ_SUFFIX ".batch"

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

/* CRC-32 of the header's first 24 bytes and the payload: a flipped bit anywhere, or a file cut
 * short, fails the check. */
static uint32_t pq_crc(const uint8_t *hdr, const uint8_t *payload, size_t len)
{
    uLong c = crc32(0L, Z_NULL, 0);
    c = crc32(c, hdr, 24);
    return (uint32_t)crc32_z(c, payload, len);
}

static void pq_header(uint8_t hdr[PQ_HEADER], enum signal s, uint64_t items, const uint8_t *payload,
                      size_t len)
{
    memcpy(hdr, PQ_MAGIC, 4);
    put_le(hdr + 4, PQ_VERSION, 2);
    put_le(hdr + 6, (uint64_t)s, 2);
    put_le(hdr + 8, items, 8);
    put_le(hdr + 16, (uint64_t)len, 8);
    put_le(hdr + 24, pq_crc(hdr, payload, len), 4);
    put_le(hdr + 28, 0, 4);
}

/* Checks a record read back; on success *items and *payload_len describe the payload at
 * data + PQ_HEADER. NULL, or why it is not a record of signal s. */
static const char *pq_check(const uint8_t *data, size_t len, enum signal s, uint64_t *items,
                            size_t *payload_len)
{
    if (len < PQ_HEADER)
        return "shorter than its header (torn write)";
    if (memcmp(data, PQ_MAGIC, 4) != 0)
        return "not a queue record (bad magic)";
    if (get_le(data + 4, 2) != PQ_VERSION)
        return "unknown record version";
    if (get_le(data + 6, 2) != (uint64_t)s)
        return "record of another signal";
    uint64_t plen = get_le(data + 16, 8);
    if (plen != len - PQ_HEADER)
        return "length does not match the file (torn write)";
    if (get_le(data + 24, 4) != pq_crc(data, data + PQ_HEADER, (size_t)plen))
        return "checksum mismatch";
    *items = get_le(data + 8, 8);
    *payload_len = (size_t)plen;
    return NULL;
}

static void pq_name(uint64_t seq, char *buf, size_t len)
{
    snprintf(buf, len, "%020" PRIu64 PQ_SUFFIX, seq);
}

/* Sequence number of a record's file name ("<digits>.batch", or that plus ".corrupt" when
 * aside is true); 0 when the name is not one. */
static uint64_t pq_seq_of(const char *name, bool aside)
{
    const char *p = name;
    uint64_t v = 0;
    size_t digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (v > (UINT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (digits == 0 || strncmp(p, PQ_SUFFIX, strlen(PQ_SUFFIX)) != 0)
        return 0;
    p += strlen(PQ_SUFFIX);
    return strcmp(p, aside ? ".corrupt" : "") == 0 ? v : 0;
}

/* Writes b's record. Called without the lock. 0 or -1 with err. */
static int pq_write(struct exporter_helper *h, struct batch *b, uint64_t seq, struct error *err)
{
    const uint8_t *data;
    size_t len;
    if (batch_encoded(b, &data, &len, err) != 0)
        return -1;
    uint8_t hdr[PQ_HEADER];
    pq_header(hdr, b->signal, b->items, data, len);
    struct iovec iov[2] = {{.iov_base = hdr, .iov_len = sizeof hdr},
                           {.iov_base = (void *)data, .iov_len = len}};
    char name[64];
    pq_name(seq, name, sizeof name);
    return file_storage_put(h->client[b->signal], name, iov, 2, err);
}

static void pq_remove(struct exporter_helper *h, enum signal s, uint64_t seq)
{
    char name[64];
    pq_name(seq, name, sizeof name);
    struct error err;
    error_clear(&err);
    if (file_storage_delete(h->client[s], name, &err) != 0)
        log_error(h->log_name, "%s (it will be sent again after a restart)", err.msg);
}

struct pq_found {
    enum signal sig;
    uint64_t seq;
};

static int pq_found_cmp(const void *a, const void *b)
{
    const struct pq_found *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void pq_set_aside(struct exporter_helper *h, enum signal s, const char *name,
                         const char *why)
{
    struct error err;
    error_clear(&err);
    telemetry_add(h->corrupt, 1);
    if (file_storage_set_aside(h->client[s], name, &err) != 0)
        log_error(h->log_name, "record %s/%s is unreadable (%s) and could not be set aside: %s",
                  file_storage_client_path(h->client[s]), name, why, err.msg);
    else
        log_error(h->log_name, "record %s/%s is unreadable (%s); renamed to %s.corrupt, its data "
                               "is lost", file_storage_client_path(h->client[s]), name, why, name);
}

/* Takes the lock, lists every signal's records, and queues them in sequence order. Called by
 * start before any consumer runs and before consume may write (opened is false until then), so
 * nothing else touches the ring. */
static int pq_open(struct exporter_helper *h, struct error *err)
{
    h->lock_fd = file_storage_lock(h->storage, "exporter", h->id, err);
    if (h->lock_fd < 0)
        return -1;
    struct pq_found *found = NULL;
    size_t nfound = 0, capfound = 0;
    uint64_t max_seq = 0;
    int rc = 0;
    for (int s = 0; s < SIGNAL_COUNT && rc == 0; s++) {
        char **names, **aside;
        size_t n, naside;
        if (file_storage_list(h->client[s], &names, &n, &aside, &naside, err) != 0) {
            rc = -1;
            break;
        }
        for (size_t i = 0; i < naside; i++) {
            uint64_t q = pq_seq_of(aside[i], true);
            if (q > max_seq)
                max_seq = q; /* a new record must not take the name of one set aside */
        }
        for (size_t i = 0; i < n && rc == 0; i++) {
            uint64_t q = pq_seq_of(names[i], false);
            if (q == 0) {
                if (strstr(names[i], PQ_SUFFIX)) /* looks like ours, but is not a record name */
                    pq_set_aside(h, (enum signal)s, names[i], "malformed file name");
                else
                    log_debug(h->log_name, "ignoring %s/%s: not a queue record",
                              file_storage_client_path(h->client[s]), names[i]);
                continue;
            }
            if (q > max_seq)
                max_seq = q;
            if (nfound == capfound) {
                size_t nc = capfound ? capfound * 2 : 64;
                struct pq_found *nf = realloc(found, nc * sizeof *nf);
                if (!nf) {
                    rc = error_set(err, "out of memory listing the persistent queue");
                    break;
                }
                found = nf;
                capfound = nc;
            }
            found[nfound].sig = (enum signal)s;
            found[nfound].seq = q;
            nfound++;
        }
        file_storage_names_free(names, n);
        file_storage_names_free(aside, naside);
    }
    if (rc == 0 && nfound > h->cap - h->len) {
        /* the ring is empty before start: no wrapped contents to keep */
        struct qitem *nr = calloc(nfound, sizeof *nr);
        if (!nr) {
            rc = error_set(err, "out of memory for %zu recovered batches", nfound);
        } else {
            free(h->ring);
            h->ring = nr;
            h->cap = nfound;
            h->head = 0;
        }
    }
    if (rc == 0 && nfound > 0)
        qsort(found, nfound, sizeof *found, pq_found_cmp);
    uint64_t items[SIGNAL_COUNT] = {0}, batches[SIGNAL_COUNT] = {0};
    for (size_t i = 0; rc == 0 && i < nfound; i++) {
        enum signal s = found[i].sig;
        char name[64];
        pq_name(found[i].seq, name, sizeof name);
        uint8_t *data;
        size_t len;
        struct error rerr;
        error_clear(&rerr);
        if (file_storage_get(h->client[s], name, &data, &len, &rerr) != 0) {
            if (rerr.code == ENOENT)
                continue;
            pq_set_aside(h, s, name, rerr.msg);
            continue;
        }
        uint64_t n_items;
        size_t plen;
        const char *bad = pq_check(data, len, s, &n_items, &plen);
        if (bad) {
            free(data);
            pq_set_aside(h, s, name, bad);
            continue;
        }
        memmove(data, data + PQ_HEADER, plen);
        struct batch *b = batch_adopt_wire(s, data, plen, n_items);
        if (!b) {
            free(data);
            rc = error_set(err, "out of memory loading the persistent queue");
            break;
        }
        uint64_t size = qsize_of(h, b);
        h->ring[(h->head + h->len) % h->cap] =
            (struct qitem){.b = b, .seq = found[i].seq, .size = size, .bytes = plen};
        h->len++;
        h->used += size;
        membudget_acquire(h->budget, plen); /* in memory already: counted, never refused */
        items[s] += n_items;
        batches[s]++;
        telemetry_add(h->recovered[s], n_items);
    }
    free(found);
    h->next_seq = max_seq + 1;
    telemetry_set(h->queue_size_g, (int64_t)h->used);
    if (rc != 0)
        return -1;
    for (int s = 0; s < SIGNAL_COUNT; s++)
        if (batches[s])
            log_info(h->log_name,
                     "recovered %" PRIu64 " %s in %" PRIu64 " batch%s from %s, sending them first",
                     items[s], signal_item_name((enum signal)s), batches[s],
                     batches[s] == 1 ? "" : "es", file_storage_client_path(h->client[s]));
    if (h->used > h->limit)
        log_warn(h->log_name, "%zu recovered batches (%" PRIu64 " %s) exceed queue_size %" PRIu64
                 ": new batches are refused until the queue is back under it", h->len, h->used,
                 sizer_choices[h->q.sizer], h->limit);
    h->opened = true;
    return 0;
}

/* ---- sending --------------------------------------------------------------------------------- */

enum outcome {
    OUT_SENT,       /* delivered */
    OUT_FAILED,     /* given up on: counted as send_failed */
    OUT_CUT,        /* cut by the shutdown deadline while its record stays on disk */
    OUT_REJECTED,   /* refused as bad data, not counted yet: the caller narrows it down */
};

/* Each level of poison isolation at least halves the request, so 64 levels reach single items of
 * any request; the cap only guards against a split that would not make progress. */
#define SPLIT_MAX_DEPTH 64

static bool is_cancelled(struct exporter_helper *h)
{
    pthread_mutex_lock(&h->mu);
    bool c = h->cancelled;
    pthread_mutex_unlock(&h->mu);
    return c;
}

/* Counts items the server refused as bad data: a single item refused alone (the poison), or a
 * request that cannot be narrowed further. Logged at most once a second: a stream of bad data
 * must not flood the log. */
static void settle_poison(struct exporter_helper *h, struct batch *b, const char *reason)
{
    telemetry_add(h->send_failed[b->signal], b->items);
    uint64_t skipped;
    if (log_gate_pass(&h->reject_log, clock_now_ns(), &skipped)) {
        char more[96] = "";
        if (skipped)
            snprintf(more, sizeof more, " (%" PRIu64 " other refusal%s not logged in the last "
                     "second)", skipped, skipped == 1 ? "" : "s");
        log_error(h->log_name, "dropping %" PRIu64 " %s the server refused as bad data: %s%s",
                  b->items, signal_item_name(b->signal), reason, more);
    }
}

/* Sends one batch until it is settled: sent, permanently failed, given up, or cut by the shutdown
 * deadline; or, when may_split, returns OUT_REJECTED (not counted, reason in *why) for the caller
 * to narrow down. Called without the lock; the caller keeps its reference. A batch with a record
 * on disk (persisted) is not given up at the deadline: it is left for the next start. */
static enum outcome deliver(struct exporter_helper *h, struct batch *b, bool persisted,
                            bool may_split, struct error *why)
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
            return OUT_SENT;
        }
        if (res == SEND_REJECTED) {
            if (may_split) {
                *why = err;
                return OUT_REJECTED;
            }
            settle_poison(h, b, err.msg);
            return OUT_FAILED;
        }
        if (res == SEND_PERMANENT) {
            char reason[1100];
            snprintf(reason, sizeof reason, "permanent error: %s", err.msg);
            settle_failed(h, b, st.attempts + 1, now - start, reason);
            return OUT_FAILED;
        }
        int64_t delay = retry_next_delay(&st, &h->r, now, throttle, rand01());
        if (delay < 0) {
            settle_failed(h, b, st.attempts, now - start, err.msg);
            return OUT_FAILED;
        }
        pthread_mutex_lock(&h->mu);
        bool cancelled = h->cancelled;
        if (!cancelled) {
            uint64_t skipped;
            if (log_gate_pass(&h->retry_log, clock_now_ns(), &skipped)) {
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
            if (persisted)
                return OUT_CUT;
            char reason[1100];
            snprintf(reason, sizeof reason, "shutdown deadline reached (last error: %s)", err.msg);
            settle_failed(h, b, st.attempts, clock_now_ns() - start, reason);
            return OUT_FAILED;
        }
    }
}

/* ---- groups: what one consumer sends at a time ------------------------------------------------
 * A group is one queued request, or (with batching) several merged into one. Its members keep
 * their own records: items of the merged request are numbered in member order (merging and
 * splitting both keep item order), so a piece sent, failed or cut is an item range, and a
 * member whose range saw no cut is settled and its record removed when the group is done. */

static uint64_t size_of(const struct exporter_helper *h, struct batch *b)
{
    switch (h->bc.sizer) {
    case QUEUE_SIZER_REQUESTS:
        return 1;
    case QUEUE_SIZER_BYTES: {
        const uint8_t *d;
        size_t len;
        struct error err;
        return batch_encoded(b, &d, &len, &err) == 0 ? len : 0;
    }
    default:
        return b->items;
    }
}

/* Records that items [off, off + n) of the group were cut by the shutdown deadline. */
static void group_mark_cut(struct group *g, uint64_t off, uint64_t n)
{
    for (size_t i = 0; i < g->n; i++) {
        struct member *m = &g->m[i];
        if (m->off == UINT64_MAX)
            continue;
        uint64_t a = m->off > off ? m->off : off;
        uint64_t e1 = m->off + m->b->items, e2 = off + n;
        uint64_t b = e1 < e2 ? e1 : e2;
        if (b > a)
            m->cut += b - a;
    }
}

/* Delivers b (items [off, off + b->items) of the group); on a refusal as bad data, cuts it into
 * halves and delivers each the same way, so only items refused alone fail. */
static void deliver_tree(struct exporter_helper *h, struct group *g, struct batch *b, uint64_t off,
                         int depth)
{
    if (is_cancelled(h)) {
        /* pieces not attempted before the deadline: as a queued batch would be */
        if (h->persistent) {
            group_mark_cut(g, off, b->items);
        } else {
            telemetry_add(h->send_failed[b->signal], b->items);
            log_error(h->log_name, "dropping %" PRIu64 " %s never sent: shutdown deadline reached",
                      b->items, signal_item_name(b->signal));
        }
        return;
    }
    struct error why;
    error_clear(&why);
    enum outcome out =
        deliver(h, b, h->persistent, b->items > 1 && depth < SPLIT_MAX_DEPTH, &why);
    if (out == OUT_CUT)
        group_mark_cut(g, off, b->items);
    if (out != OUT_REJECTED)
        return;

    const uint8_t *data;
    size_t len;
    struct error err;
    error_clear(&err);
    struct otlp_chunk *chunks = NULL;
    size_t n = 0;
    if (batch_encoded(b, &data, &len, &err) != 0 ||
        otlp_split(b->signal, data, len, (b->items + 1) / 2, &chunks, &n, &err) != 0) {
        char reason[2200];
        snprintf(reason, sizeof reason, "%s (cannot cut the request to find the bad items: %s)",
                 why.msg, err.msg);
        settle_poison(h, b, reason);
        return;
    }
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += chunks[i].items;
    if (n < 2 || sum != b->items) {
        /* items not where the count says (a request whose entries carry no items): no narrower
         * piece exists */
        otlp_chunks_free(chunks, n);
        settle_poison(h, b, why.msg);
        return;
    }
    uint64_t at = off;
    for (size_t i = 0; i < n; i++) {
        uint64_t items = chunks[i].items;
        struct batch *piece = batch_adopt_wire(b->signal, chunks[i].data, chunks[i].len, items);
        chunks[i].data = NULL; /* adopted, or freed by batch_adopt_wire */
        if (!piece) {
            telemetry_add(h->send_failed[b->signal], items);
            log_error(h->log_name, "dropping %" PRIu64 " %s: out of memory narrowing a refused "
                      "request (%s)", items, signal_item_name(b->signal), why.msg);
        } else {
            deliver_tree(h, g, piece, at, depth + 1);
            batch_unref(piece);
        }
        at += items;
    }
    otlp_chunks_free(chunks, n);
}

/* Appends pieces of at most max bytes of (data, len) to *l; a single item larger than max goes
 * alone. The split counts items, so a piece still too large (items of uneven size) is cut again
 * with fewer items: each round has fewer items than the last. */
static int split_bytes(enum signal s, const uint8_t *data, size_t len, uint64_t items,
                       uint64_t max, struct otlp_chunk **l, size_t *n, size_t *cap,
                       struct error *err)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        struct otlp_chunk *nl = realloc(*l, nc * sizeof *nl);
        if (!nl)
            return error_set(err, "out of memory");
        *l = nl;
        *cap = nc;
    }
    if (len <= max || items <= 1) {
        uint8_t *copy = malloc(len ? len : 1);
        if (!copy)
            return error_set(err, "out of memory");
        memcpy(copy, data, len);
        (*l)[(*n)++] = (struct otlp_chunk){.data = copy, .len = len, .items = items};
        return 0;
    }
    uint64_t per = (uint64_t)((double)items * (double)max / (double)len);
    if (per < 1)
        per = 1;
    if (per >= items)
        per = items - 1;
    struct otlp_chunk *c;
    size_t nc;
    if (otlp_split(s, data, len, per, &c, &nc, err) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < nc && rc == 0; i++)
        rc = split_bytes(s, c[i].data, c[i].len, c[i].items, max, l, n, cap, err);
    otlp_chunks_free(c, nc);
    return rc;
}

/* The group's request cut into pieces of at most batch.max_size (sizer units); 0 pieces when it
 * needs no cut. */
static int group_cut(struct exporter_helper *h, struct batch *top, struct otlp_chunk **chunks,
                     size_t *n, struct error *err)
{
    *chunks = NULL;
    *n = 0;
    if (!h->batching || h->bc.max_size <= 0 || h->bc.sizer == QUEUE_SIZER_REQUESTS ||
        size_of(h, top) <= (uint64_t)h->bc.max_size || top->items <= 1)
        return 0;
    const uint8_t *data;
    size_t len;
    if (batch_encoded(top, &data, &len, err) != 0)
        return -1;
    if (h->bc.sizer == QUEUE_SIZER_ITEMS)
        return otlp_split(top->signal, data, len, (uint64_t)h->bc.max_size, chunks, n, err);
    size_t cap = 0;
    if (split_bytes(top->signal, data, len, top->items, (uint64_t)h->bc.max_size, chunks, n, &cap,
                    err) != 0) {
        otlp_chunks_free(*chunks, *n);
        *chunks = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

/* Removes the records of members that are settled; a member with cut items keeps its record for
 * the next start. Drops the group's references. */
static void group_finish(struct exporter_helper *h, struct group *g)
{
    for (size_t i = 0; i < g->n; i++) {
        struct member *m = &g->m[i];
        if (m->seq && m->cut == 0) {
            pq_remove(h, m->b->signal, m->seq);
        } else if (m->seq) {
            pthread_mutex_lock(&h->mu);
            h->kept_items[m->b->signal] += m->b->items;
            h->kept_batches[m->b->signal]++;
            pthread_mutex_unlock(&h->mu);
        }
        membudget_release(h->budget, m->bytes);
        batch_unref(m->b);
    }
    if (g->m != &g->one)
        free(g->m);
    g->m = NULL;
    g->n = 0;
}

/* Out of memory for the merged copy: each member still unsettled goes on its own. */
static void send_members_apart(struct exporter_helper *h, struct group *g)
{
    for (size_t i = 0; i < g->n; i++)
        if (g->m[i].off != UINT64_MAX) {
            g->m[i].off = 0;
            struct group one = {.m = &g->m[i], .n = 1};
            deliver_tree(h, &one, g->m[i].b, 0, 0);
        }
    group_finish(h, g);
}

/* Sends a group until every item is settled, then settles its records. */
static void send_group(struct exporter_helper *h, struct group *g)
{
    enum signal sig = g->m[0].b->signal;
    struct batch *top = NULL;
    if (g->n == 1) {
        g->m[0].off = 0;
        top = batch_ref(g->m[0].b);
    } else {
        struct otlp_buf buf = {0};
        bool oom = false;
        for (size_t i = 0; i < g->n && !oom; i++) {
            struct member *m = &g->m[i];
            const uint8_t *d;
            size_t len;
            struct error err;
            error_clear(&err);
            if (batch_encoded(m->b, &d, &len, &err) != 0) {
                m->off = UINT64_MAX;
                settle_failed(h, m->b, 0, 0, err.msg);
                continue;
            }
            m->off = buf.items;
            if (otlp_buf_append(&buf, d, len, m->b->items) != 0)
                oom = true;
        }
        if (oom) {
            /* no room for the merged copy: send the members one by one */
            otlp_buf_free(&buf);
            send_members_apart(h, g);
            return;
        }
        uint8_t *data;
        size_t len;
        uint64_t items;
        otlp_buf_release(&buf, &data, &len, &items);
        top = batch_adopt_wire(sig, data, len, items);
        if (!top) {
            send_members_apart(h, g);
            return;
        }
    }
    struct otlp_chunk *chunks;
    size_t n;
    struct error err;
    error_clear(&err);
    if (group_cut(h, top, &chunks, &n, &err) != 0) {
        log_warn(h->log_name, "cannot cut a batch of %" PRIu64 " %s at max_size, sending it "
                 "whole: %s", top->items, signal_item_name(sig), err.msg);
        n = 0;
    }
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += chunks[i].items;
    if (n == 0 || sum != top->items) {
        deliver_tree(h, g, top, 0, 0);
    } else {
        uint64_t at = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t items = chunks[i].items;
            struct batch *piece = batch_adopt_wire(sig, chunks[i].data, chunks[i].len, items);
            chunks[i].data = NULL;
            if (piece) {
                deliver_tree(h, g, piece, at, 0);
                batch_unref(piece);
            } else {
                telemetry_add(h->send_failed[sig], items);
                log_error(h->log_name, "dropping %" PRIu64 " %s: out of memory cutting a batch",
                          items, signal_item_name(sig));
            }
            at += items;
        }
    }
    otlp_chunks_free(chunks, n);
    batch_unref(top);
    group_finish(h, g);
}

/* A group of one request, taking over the caller's reference (and its budget bytes). */
static void group_single(struct group *g, struct batch *b, uint64_t seq, uint64_t bytes)
{
    memset(g, 0, sizeof *g);
    g->one = (struct member){.b = b, .seq = seq, .bytes = bytes};
    g->m = &g->one;
    g->n = 1;
}

static struct qitem pop_locked(struct exporter_helper *h)
{
    struct qitem it = h->ring[h->head];
    h->ring[h->head] = (struct qitem){0};
    h->head = (h->head + 1) % h->cap;
    h->len--;
    h->used -= it.size;
    telemetry_set(h->queue_size_g, (int64_t)h->used);
    /* Sized sizers: the space freed may fit one waiter and not another, so all of them look. */
    if (h->q.sizer == QUEUE_SIZER_REQUESTS)
        pthread_cond_signal(&h->not_full);
    else
        pthread_cond_broadcast(&h->not_full);
    return it;
}

/* Adds a queued request to its signal's pending batch (mu held). 0, or -1 on out of memory. */
static int pend_add(struct exporter_helper *h, struct qitem it)
{
    struct group *p = &h->pend[it.b->signal];
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 16;
        struct member *nm = realloc(p->m, nc * sizeof *nm);
        if (!nm)
            return -1;
        p->m = nm;
        p->cap = nc;
    }
    if (p->n == 0)
        p->first_at = clock_now_ns();
    p->m[p->n++] = (struct member){.b = it.b, .seq = it.seq, .bytes = it.bytes};
    p->size += size_of(h, it.b);
    return 0;
}

/* Whether signal s's pending batch is due (mu held); else lowers *next to when it will be. */
static bool pend_due(struct exporter_helper *h, int s, int64_t now, int64_t *next)
{
    struct group *p = &h->pend[s];
    if (p->n == 0)
        return false;
    if (p->size >= (uint64_t)h->bc.min_size)
        return true;
    if (h->stopping && h->len == 0 && h->reserved == 0)
        return true; /* shutting down: nothing more will come, flush now */
    int64_t due = p->first_at + h->bc.flush_timeout;
    if (now >= due)
        return true;
    if (due < *next)
        *next = due;
    return false;
}

/* Waits for the next group to send (mu held). false when the consumer should exit. */
static bool take_work(struct exporter_helper *h, struct group *g)
{
    for (;;) {
        if (h->cancelled)
            return false;
        if (!h->batching) {
            if (h->len > 0) {
                struct qitem it = pop_locked(h);
                group_single(g, it.b, it.seq, it.bytes);
                return true;
            }
            /* While a caller still writes its record (reserved), stay: it is about to be
             * queued. */
            if (h->stopping && h->reserved == 0)
                return false;
            pthread_cond_wait(&h->not_empty, &h->mu);
            continue;
        }
        int64_t now = clock_now_ns(), next = INT64_MAX;
        bool pending = false;
        for (int s = 0; s < SIGNAL_COUNT; s++) {
            if (pend_due(h, s, now, &next)) {
                memset(g, 0, sizeof *g);
                g->m = h->pend[s].m;
                g->n = h->pend[s].n;
                memset(&h->pend[s], 0, sizeof h->pend[s]);
                return true;
            }
            pending |= h->pend[s].n > 0;
        }
        if (h->len > 0) {
            struct qitem it = pop_locked(h);
            if (pend_add(h, it) != 0) {
                group_single(g, it.b, it.seq, it.bytes);
                return true;
            }
            continue;
        }
        if (h->stopping && h->reserved == 0 && !pending)
            return false;
        if (next == INT64_MAX)
            pthread_cond_wait(&h->not_empty, &h->mu);
        else
            cond_wait_until(&h->not_empty, &h->mu, next);
    }
}

static void *consumer_main(void *arg)
{
    struct exporter_helper *h = arg;
    pthread_mutex_lock(&h->mu);
    struct group g;
    while (take_work(h, &g)) {
        h->busy++;
        /* Another idle consumer takes over watching the flush timers of what stays pending. */
        if (h->batching)
            pthread_cond_signal(&h->not_empty);
        pthread_mutex_unlock(&h->mu);
        send_group(h, &g);
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
    h->lock_fd = -1;
    h->log_name = strdup(log_name ? log_name : "exporter");
    h->budget = membudget_process();
    h->id = strdup(id ? id : "");
    h->q = *q;
    h->q.storage = NULL; /* not owned: the bound config owns it */
    h->q.storage_ext = NULL;
    h->bc = q->batch;
    h->bc.sizer = queue_batch_sizer(q);
    h->batching = q->batch_enabled && q->enabled;
    h->r = *r;
    h->send = send;
    h->ctx = ctx;
    if (!h->log_name || !h->id) {
        error_set(err, "out of memory");
        goto fail;
    }
    if (h->q.enabled) {
        if (h->q.queue_size < 1 || h->q.num_consumers < 1) {
            error_set(err, "sending_queue: queue_size and num_consumers must be positive");
            goto fail;
        }
        h->limit = (uint64_t)h->q.queue_size;
        /* requests: every slot up front, as before; items and bytes: the ring grows */
        h->cap = h->q.sizer == QUEUE_SIZER_REQUESTS ? (size_t)h->q.queue_size
                 : h->q.queue_size < 64             ? (size_t)h->q.queue_size
                                                    : 64;
        h->ring = calloc(h->cap, sizeof *h->ring);
        h->threads = calloc((size_t)h->q.num_consumers, sizeof *h->threads);
        if (!h->ring || !h->threads) {
            error_set(err, "out of memory for a sending queue of %zu batches", h->cap);
            goto fail;
        }
    }
    /* batch or storage with the queue disabled: the service warned at load, with the key's
     * position. */
    if (q->storage && !q->enabled)
        ;
    else if (q->storage && !q->storage_ext)
        log_warn(h->log_name, "sending_queue.storage '%s' was not resolved to an extension; the "
                              "queue stays in memory", q->storage);
    else if (q->storage) {
        h->persistent = true;
        h->storage = q->storage_ext;
        for (int s = 0; s < SIGNAL_COUNT; s++)
            if (!(h->client[s] = file_storage_client_new(h->storage, "exporter", h->id,
                                                         signal_name((enum signal)s), err)))
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
        if (h->persistent) {
            snprintf(name, sizeof name, "llmotlp_exporter_queue_recovered_%s",
                     item_metric_suffix[s]);
            h->recovered[s] = telemetry_counter(
                telemetry, name, labels,
                "Items loaded at start from the persistent sending queue, left by the previous "
                "run.");
        }
    }
    if (h->persistent)
        h->corrupt = telemetry_counter(
            telemetry, "llmotlp_exporter_queue_corrupt_batches", labels,
            "Records of the persistent sending queue found torn or corrupt at start and set "
            "aside (*.corrupt); their items are lost.");
    h->queue_size_g = telemetry_gauge(telemetry, "otelcol_exporter_queue_size", labels,
                                      "Current size of the sending queue, in sizer units "
                                      "(requests, items or bytes).");
    h->queue_capacity_g = telemetry_gauge(telemetry, "otelcol_exporter_queue_capacity", labels,
                                          "Capacity of the sending queue, in sizer units.");
    telemetry_set(h->queue_size_g, 0);
    telemetry_set(h->queue_capacity_g, (int64_t)h->limit);
    return h;

fail:
    for (int s = 0; s < SIGNAL_COUNT; s++)
        file_storage_client_free(h->client[s]);
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
    if (h->persistent && !h->opened) {
        /* ".../exporter_otlp__traces" -> ".../exporter_otlp__<signal>" */
        const char *p = file_storage_client_path(h->client[SIGNAL_TRACES]);
        log_info(h->log_name, "persistent sending queue in %.*s<signal>", (int)(strlen(p) - 6), p);
    }
    if (h->persistent && !h->opened && pq_open(h, err) != 0) {
        pthread_mutex_unlock(&h->mu);
        error_prefix(err, "sending_queue.storage: ");
        return -1;
    }
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
    if (log_gate_pass(&h->overflow_log, clock_now_ns(), &skipped))
        log_warn(h->log_name, "refusing %" PRIu64 " %s (sender told to retry): %s%s", b->items,
                 signal_item_name(b->signal), why,
                 skipped ? " (other refusals not logged in the last second)" : "");
}

enum consume_status exporter_helper_consume(struct exporter_helper *h, struct batch *b)
{
    /* Sizes are measured before the lock: the encoded face may have to be built (and is cached
     * on the batch for the send). The budget counts encoded bytes whenever a limit is set, or
     * whenever the queue measures bytes anyway. */
    bool measure = h->q.enabled && (h->q.sizer == QUEUE_SIZER_BYTES ||
                                    (h->batching && h->bc.sizer == QUEUE_SIZER_BYTES) ||
                                    membudget_limit(h->budget) > 0);
    uint64_t bytes = 0;
    if (measure) {
        const uint8_t *d;
        size_t len;
        struct error err;
        if (batch_encoded(b, &d, &len, &err) == 0)
            bytes = len;
    }
    uint64_t size = !h->q.enabled                       ? 0
                    : h->q.sizer == QUEUE_SIZER_BYTES  ? bytes
                    : h->q.sizer == QUEUE_SIZER_ITEMS  ? b->items
                                                       : 1;
    pthread_mutex_lock(&h->mu);
    if (h->stopping) {
        pthread_mutex_unlock(&h->mu);
        count_refused(h, b, "exporter is shutting down");
        return CONSUME_RETRY;
    }
    if (!h->q.enabled) {
        /* the caller waits for delivery: its request's bytes stay counted by the receiver */
        h->callers++;
        pthread_mutex_unlock(&h->mu);
        struct group g;
        group_single(&g, batch_ref(b), 0, 0);
        send_group(h, &g);
        pthread_mutex_lock(&h->mu);
        h->callers--;
        pthread_cond_broadcast(&h->idle);
        pthread_mutex_unlock(&h->mu);
        return CONSUME_OK;
    }
    if (h->persistent && !h->opened) {
        /* the records of the previous run are not loaded yet: a new one could take a name */
        pthread_mutex_unlock(&h->mu);
        count_refused(h, b, "the persistent queue is not open yet");
        return CONSUME_RETRY;
    }
    if (size > h->limit) {
        /* It could never fit, however long it waited (the Collector's "element size too
         * large"): refused at once, as retryable as any full queue. */
        pthread_mutex_unlock(&h->mu);
        char why[160];
        snprintf(why, sizeof why, "the request (%" PRIu64 " %s) is larger than the whole queue "
                 "(queue_size %" PRIu64 ")", size, sizer_choices[h->q.sizer], h->limit);
        count_refused(h, b, why);
        return CONSUME_RETRY;
    }
    if (h->used + size > h->limit) {
        h->callers++;
        int64_t until = clock_now_ns() + h->q.overflow_wait;
        while (h->used + size > h->limit && !h->stopping) {
            if (h->q.block_on_overflow)
                pthread_cond_wait(&h->not_full, &h->mu);
            else if (clock_now_ns() < until)
                cond_wait_until(&h->not_full, &h->mu, until);
            else
                break;
        }
        h->callers--;
        pthread_cond_broadcast(&h->idle);
        if (h->used + size > h->limit || h->stopping) {
            bool stopping = h->stopping;
            pthread_mutex_unlock(&h->mu);
            count_refused(h, b, stopping ? "exporter is shutting down" : "sending queue is full");
            return CONSUME_RETRY;
        }
    }
    /* The process's budget, after the queue's own bound: a batch the queue could hold is still
     * refused when the process as a whole holds too much (memory_limiter's soft limit). */
    if (!membudget_try_acquire(h->budget, bytes)) {
        pthread_cond_signal(&h->not_full); /* this caller leaves: let the next waiter look */
        pthread_mutex_unlock(&h->mu);
        count_refused(h, b, "the memory budget is exhausted (memory_limiter)");
        return CONSUME_RETRY;
    }
    if (ring_room(h) != 0) {
        pthread_mutex_unlock(&h->mu);
        membudget_release(h->budget, bytes);
        count_refused(h, b, "out of memory growing the sending queue");
        return CONSUME_RETRY;
    }
    h->used += size;
    uint64_t seq = 0;
    if (h->persistent) {
        /* The space is promised before the lock is let go, so queue_size holds while the record
         * is written; shutdown waits for this caller (callers) and a consumer waits for its
         * batch (reserved). */
        seq = h->next_seq++;
        h->reserved++;
        h->callers++;
        pthread_mutex_unlock(&h->mu);
        struct error err;
        error_clear(&err);
        int rc = pq_write(h, b, seq, &err);
        pthread_mutex_lock(&h->mu);
        h->reserved--;
        h->callers--;
        pthread_cond_broadcast(&h->idle);
        if (rc == 0 && ring_room(h) != 0) {
            pq_remove(h, b->signal, seq);
            rc = error_set(&err, "out of memory growing the sending queue");
        }
        if (rc != 0) {
            h->used -= size;
            pthread_cond_broadcast(&h->not_full);
            pthread_cond_broadcast(&h->not_empty); /* a consumer may wait only for this one */
            pthread_mutex_unlock(&h->mu);
            membudget_release(h->budget, bytes);
            char why[1100];
            snprintf(why, sizeof why, "cannot write it to the persistent queue: %s", err.msg);
            count_refused(h, b, why);
            return CONSUME_RETRY;
        }
    }
    h->ring[(h->head + h->len) % h->cap] =
        (struct qitem){.b = batch_ref(b), .seq = seq, .size = size, .bytes = bytes};
    h->len++;
    telemetry_set(h->queue_size_g, (int64_t)h->used);
    pthread_mutex_unlock(&h->mu);
    /* Signalled after the unlock: a consumer woken while the caller still held the mutex would
     * at once sleep again on it and need a second wake-up, which at low request rates is a
     * large part of what a request costs. Safe because the queue item is already published and
     * h outlives every consume() call (the service stops receivers and processors first). */
    pthread_cond_signal(&h->not_empty);
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

    /* Whatever is still queued was accepted and never attempted (or the helper never started):
     * lost, unless its record is on disk for the next start. */
    uint64_t left_items[SIGNAL_COUNT] = {0}, left_batches[SIGNAL_COUNT] = {0};
    pthread_mutex_lock(&h->mu);
    while (h->len > 0) {
        struct qitem it = h->ring[h->head];
        h->ring[h->head] = (struct qitem){0};
        h->head = (h->head + 1) % h->cap;
        h->len--;
        if (it.seq) {
            h->kept_items[it.b->signal] += it.b->items;
            h->kept_batches[it.b->signal]++;
        } else {
            telemetry_add(h->send_failed[it.b->signal], it.b->items);
            left_items[it.b->signal] += it.b->items;
            left_batches[it.b->signal]++;
        }
        membudget_release(h->budget, it.bytes);
        batch_unref(it.b);
    }
    for (int s = 0; s < SIGNAL_COUNT; s++) {
        struct group *p = &h->pend[s];
        for (size_t i = 0; i < p->n; i++) {
            struct batch *b = p->m[i].b;
            if (p->m[i].seq) {
                h->kept_items[s] += b->items;
                h->kept_batches[s]++;
            } else {
                telemetry_add(h->send_failed[s], b->items);
                left_items[s] += b->items;
                left_batches[s]++;
            }
            membudget_release(h->budget, p->m[i].bytes);
            batch_unref(b);
        }
        free(p->m);
        memset(p, 0, sizeof *p);
    }
    h->used = 0;
    telemetry_set(h->queue_size_g, 0);
    uint64_t kept_items[SIGNAL_COUNT], kept_batches[SIGNAL_COUNT];
    memcpy(kept_items, h->kept_items, sizeof kept_items);
    memcpy(kept_batches, h->kept_batches, sizeof kept_batches);
    pthread_mutex_unlock(&h->mu);
    for (int s = 0; s < SIGNAL_COUNT; s++) {
        if (left_batches[s])
            log_error(h->log_name,
                      "dropping %" PRIu64 " %s in %" PRIu64
                      " queued batch%s never sent: shutdown deadline reached",
                      left_items[s], signal_item_name((enum signal)s), left_batches[s],
                      left_batches[s] == 1 ? "" : "es");
        if (kept_batches[s])
            log_warn(h->log_name,
                     "%" PRIu64 " batch%s (%" PRIu64 " %s) kept in storage for the next start "
                     "(%s)", kept_batches[s], kept_batches[s] == 1 ? "" : "es", kept_items[s],
                     signal_item_name((enum signal)s), file_storage_client_path(h->client[s]));
    }
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
    for (int s = 0; s < SIGNAL_COUNT; s++)
        file_storage_client_free(h->client[s]);
    file_storage_unlock(h->lock_fd);
    free(h->ring);
    free(h->threads);
    free(h->log_name);
    free(h->id);
    free(h);
}

void exporter_helper_set_budget(struct exporter_helper *h, struct membudget *b)
{
    h->budget = b ? b : membudget_process();
}

uint64_t exporter_helper_queue_used(struct exporter_helper *h)
{
    pthread_mutex_lock(&h->mu);
    uint64_t n = h->used;
    pthread_mutex_unlock(&h->mu);
    return n;
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
    /* The request counts as sent and is never sent again: the server kept the rest of it, so a
     * resend would duplicate that. One line a second at most (a server rejecting something in
     * every answer must not flood the log); the counter has every item. */
    uint64_t skipped;
    if (!log_gate_pass(&h->partial_log, clock_now_ns(), &skipped))
        return;
    char more[96] = "";
    if (skipped)
        snprintf(more, sizeof more, " (%" PRIu64 " other partial success%s not logged in the last "
                 "second)", skipped, skipped == 1 ? "" : "es");
    log_warn(h->log_name,
             "partial success: server rejected %" PRId64 " of %" PRIu64 " %s (not retried): %s%s",
             rejected, b->items, signal_item_name(b->signal), msg && msg[0] ? msg : "(no message)",
             more);
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
