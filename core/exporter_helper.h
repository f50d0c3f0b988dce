/* exporter_helper.h — what every exporter shares, as the Collector's exporterhelper: a bounded
 * sending queue drained by consumer threads, optional batching of queued requests, retry with
 * exponential backoff and jitter (honouring a server's throttle delay), narrowing a permanent
 * refusal down to the items that caused it, and the counters of what was sent, retried and
 * finally given up. An exporter supplies only send(): one attempt to deliver one batch.
 *
 * Accounting: every item consume() accepts ends in exactly one of otelcol_exporter_sent_<items>
 * or otelcol_exporter_send_failed_<items> (with a logged reason), or, with storage, stays on disk
 * at shutdown for the next start (logged as kept). Items a server rejects inside an OK answer
 * (OTLP partial success) are delivered as far as the sender can tell: they count as sent, and
 * also in otelcol_exporter_partial_rejected_<items> with the server's message logged; such a
 * request is never sent again (a resend would duplicate the accepted part).
 *
 * Poison isolation: when send() answers SEND_REJECTED (the downstream says the data is bad:
 * gRPC INVALID_ARGUMENT, HTTP 400), the helper cuts the request in halves at the wire level
 * (otlp_split: between resource entries, and by scope and item inside one) and sends each half
 * with its own retries, recursively, down to single items. Only an item refused alone is counted
 * as send_failed (logged with the server's reason, at most one line a second); every other item
 * is delivered. k bad items among N cost O(k log N) extra sends; the depth is capped (64 levels:
 * each level at least halves). Other permanent errors (SEND_PERMANENT: auth, not found,
 * unimplemented) fail the whole request, since cutting it cannot help.
 *
 * Batching (`sending_queue.batch`, as the Collector's queue batcher): consumers take queued
 * requests and merge them per signal (wire-level concatenation) until batch.min_size is reached
 * or batch.flush_timeout has passed since the first one, then send the merged request, cut into
 * requests of at most batch.max_size when it is set. batch.sizer counts items (default), bytes of
 * the encoded requests, or requests. A queued request stays accounted as itself: its record
 * (persistent queue) is removed only when every one of its items is settled, so batching happens
 * after the durable write and a crash loses nothing acknowledged. At shutdown what is pending is
 * flushed at once (without waiting for flush_timeout).
 *
 * With `sending_queue.storage` naming a file_storage extension the queue is also on disk (the
 * Collector's persistent queue): a batch is written before consume() answers CONSUME_OK, removed
 * once it is settled, and whatever is still on disk at the next start (after a crash, or what a
 * shutdown deadline left) is sent then. Records live in the extension's directory, one
 * subdirectory per signal named as the Collector names the queue's storage client,
 * `exporter_<type>_<name>_<signal>` (`exporter_otlp__traces` for `otlp`), one file per batch:
 * `<20-digit sequence>.batch` = a 32-byte header (magic "LOQB", version, signal, items, length,
 * CRC-32 of header and payload) and the batch's encoded request. A record whose items were
 * partly sent when the process stopped is sent whole again at the next start: delivery across a
 * crash is at least once.
 *
 * Sizing (`sending_queue.sizer`, as the Collector's): queue_size counts requests (default), items
 * or bytes of the encoded requests. A request larger than the whole queue is refused at once
 * (retryable, counted in enqueue_failed, as the Collector's "element size too large"); the queue
 * counts what waits in it, a request being sent or retried no longer does (as before). Every
 * queued request also holds its encoded bytes of the process's memory budget (membudget.h) from
 * consume() until it is settled: when memory_limiter set a limit and the budget is exhausted,
 * consume() answers CONSUME_RETRY without waiting.
 *
 * Thread-safety: consume() is called from any number of pipeline threads; send() is called from
 * the helper's consumer threads (or the caller's thread when the queue is disabled). */
#ifndef LLMOTLP_EXPORTER_HELPER_H
#define LLMOTLP_EXPORTER_HELPER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/error.h"

struct cnode;
struct file_storage;

struct retry_config {
    bool enabled;
    int64_t initial_interval;      /* ns */
    int64_t max_interval;          /* ns */
    int64_t max_elapsed_time;      /* ns; 0 = retry forever */
    double multiplier;
    double randomization_factor;
};
/* Field table for `retry_on_failure` (Collector defaults: true, 5s, 30s, 300s, 1.5, 0.5). */
extern const struct config_field retry_config_fields[];

/* `sending_queue.batch`: merging queued requests before sending. */
enum queue_sizer { QUEUE_SIZER_REQUESTS = 0, QUEUE_SIZER_ITEMS, QUEUE_SIZER_BYTES };
/* `sending_queue.batch.partition`: bound and warned about (no_effect), since no request carries
 * client metadata. */
struct queue_partition_config {
    struct config_str_list metadata_keys;
};
struct queue_batch_config {
    int64_t flush_timeout;         /* ns a pending batch waits for more (> 0) */
    int64_t min_size;              /* send once this much is pending (sizer units) */
    int64_t max_size;              /* cut merged requests larger than this; 0 = no limit */
    int sizer;                     /* enum queue_sizer; follows sending_queue.sizer when that is
                                      written and this is not (queue_batch_sizer) */
    bool sizer_set;                /* `sizer` was written */
    struct queue_partition_config partition;
};
/* Field table for `sending_queue.batch` (Collector defaults: 200ms, 8192, 0, items). */
extern const struct config_field queue_batch_config_fields[];

struct queue_config {
    bool enabled;
    int64_t num_consumers;
    int64_t queue_size;            /* capacity in sizer units */
    bool block_on_overflow;        /* Collector key; when true a full queue waits for space until
                                      shutdown instead of overflow_wait */
    int64_t overflow_wait;         /* ns a full queue makes the caller wait before CONSUME_RETRY */
    /* Collector keys accepted for compatibility: */
    int sizer;                     /* enum queue_sizer: unit of queue_size */
    bool sizer_set;                /* `sizer` was written */
    bool wait_for_result;          /* ignored: consume() answers once the batch is queued */
    char *storage;                 /* ID of the file_storage extension keeping the queue on
                                      disk; NULL = in memory only */
    bool batch_enabled;            /* `batch` is present (even `batch:` or `batch: {}`) */
    bool batch_written;            /* `batch` has a value (not `batch:` alone) */
    struct queue_batch_config batch;
    /* Not a config key: the extension instance that `storage` names, set by the service between
     * binding and creating the exporter (it finds this struct through the exporter's field
     * table: the CFG_SECTION whose sub is queue_config_fields). NULL when storage is unset, or
     * when a test binds an exporter's config without a service: the queue then stays in
     * memory, with a warning. */
    struct file_storage *storage_ext;
};
/* Field table for `sending_queue` (Collector defaults: true, 10, 1000). */
extern const struct config_field queue_config_fields[];

/* Cross-field checks after binding (intervals positive, sizer, batch sizes). 0 or -1 with err
 * (message names the key, without the section prefix). */
int retry_config_validate(const struct retry_config *r, struct error *err);
int queue_config_validate(const struct queue_config *q, struct error *err);
/* The sizer `sending_queue.batch` counts in: its own when written, else the queue's when that is
 * written and the batch section has a value, else items (the Collector's rule). */
int queue_batch_sizer(const struct queue_config *q);

/* Checks retry_on_failure and sending_queue together, prefixing errors with their section name,
 * as every exporter's validate() does. 0 or -1 with err. */
int exporter_helper_validate(const struct retry_config *r, const struct queue_config *q,
                             struct error *err);

/* Backoff state for one batch. Pure: no clock, no randomness of its own (for unit tests). */
struct retry_state {
    int64_t started_ns;
    int64_t interval_ns;  /* current un-randomized interval */
    unsigned attempts;
};
void retry_begin(struct retry_state *st, const struct retry_config *cfg, int64_t now_ns);
/* Delay before the next attempt after a retryable failure at now_ns, or -1 to give up
 * (retry disabled, or the next attempt would start past max_elapsed_time). throttle_ns > 0 (a
 * server's RetryInfo / Retry-After) replaces the backoff step for this attempt. rand01 in [0,1)
 * draws the jitter: interval * (1 ± randomization_factor). */
int64_t retry_next_delay(struct retry_state *st, const struct retry_config *cfg, int64_t now_ns,
                         int64_t throttle_ns, double rand01);

/* SEND_PERMANENT: refused for a reason the request's content cannot change (authentication,
 * permission, unknown endpoint, unimplemented): the whole request fails. SEND_REJECTED: refused
 * permanently because the data is bad (gRPC INVALID_ARGUMENT, HTTP 400): the helper narrows the
 * refusal to the items that cause it (see the top of this file). */
enum send_result { SEND_OK = 0, SEND_RETRYABLE, SEND_PERMANENT, SEND_REJECTED };

/* One delivery attempt. On SEND_RETRYABLE may set *throttle_ns (server-requested delay).
 * On failure fills err with the reason (logged by the helper when it gives up). Must not keep
 * b past the call: the helper hands it pieces of requests it made itself. */
typedef enum send_result (*export_send_fn)(void *ctx, struct batch *b, int64_t *throttle_ns,
                                           struct error *err);

struct exporter_helper;

/* log_name: "exporter/otlp"; id: component ID used as the `exporter` label of the counters and,
 * with storage, in the names of the queue's directories. */
struct exporter_helper *exporter_helper_new(const char *log_name, const char *id,
                                            const struct queue_config *q,
                                            const struct retry_config *r, export_send_fn send,
                                            void *ctx, struct telemetry *telemetry,
                                            struct error *err);
/* Starts the consumer threads. With storage, first takes the lock of this exporter's records
 * (waiting up to the extension's timeout) and loads every record found, in sequence order, into
 * the queue (counted in llmotlp_exporter_queue_recovered_<items>; a torn or corrupt record is
 * renamed *.corrupt, counted in llmotlp_exporter_queue_corrupt_batches and logged). All records
 * are loaded even beyond queue_size; queue_size then refuses new batches until the queue is back
 * under it. */
int exporter_helper_start(struct exporter_helper *h, struct error *err);
/* Queues the batch (taking a ref) or, with the queue disabled, sends it now with retries (then
 * CONSUME_OK means settled: sent, or counted as send_failed and logged). With storage, the
 * batch's record is on disk before CONSUME_OK is answered.
 * CONSUME_RETRY when the queue stays full past overflow_wait, the helper is shutting down, or
 * (with storage) the record cannot be written or the helper has not started yet; those refusals
 * are counted as enqueue_failed. */
enum consume_status exporter_helper_consume(struct exporter_helper *h, struct batch *b);
/* Stops taking batches, lets consumers drain the queue (what the batcher holds is sent at once,
 * without waiting for flush_timeout) and finish retries until deadline_ns, then cancels: whatever is left is counted as send_failed and logged with its reason, except
 * that with storage it stays on disk for the next start (logged as kept, not counted as failed).
 */
void exporter_helper_shutdown(struct exporter_helper *h, int64_t deadline_ns);
void exporter_helper_free(struct exporter_helper *h);
/* Reports an OK answer's partial success (decoded Export*ServiceResponse; NULL = none): rejected
 * items are counted in otelcol_exporter_partial_rejected_<items> (they are also in sent: the
 * request was delivered) and logged with the server's message, at most one line a second. Never
 * retried, as the spec says: a resend would duplicate what the server kept. Thread-safe. */
void exporter_helper_partial_success(struct exporter_helper *h, const struct batch *b,
                                     const ProtobufCMessage *resp);
/* Current queue length (batches). */
size_t exporter_helper_queue_len(struct exporter_helper *h);
/* What the queue holds, in sizer units (reserved slots of records being written included). */
uint64_t exporter_helper_queue_used(struct exporter_helper *h);
/* Counts queued bytes against budget b instead of the process's (tests); call before start. */
struct membudget;
void exporter_helper_set_budget(struct exporter_helper *h, struct membudget *b);

#endif
