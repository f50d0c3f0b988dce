/* membudget.h — the one process-wide admission budget: bytes of requests held by the receivers
 * (bodies being read, inflated payloads, gRPC messages being copied), bytes queued in the
 * exporters' sending queues and bytes tail_sampling retains count against one limit, which the receivers check *before* they
 * buffer or inflate a request and the queues check before they take a batch.
 *
 * The one idea: admission is a compare-and-swap on one counter. try_acquire(n) succeeds only if
 * used + n stays within the limit, so the sum of everything admitted never passes it however
 * many threads ask at once; whoever acquired releases the same n when the bytes are gone. The
 * limit comes from memory_limiter (its soft limit minus what the process used before any data
 * arrived); without a memory_limiter the budget is unlimited and only counts.
 *
 * A budget can also be closed: memory_limiter closes it while the measured RSS is above its soft
 * limit (memory the accounting does not see: fragmentation, decoded copies, library buffers), so
 * nothing new is admitted until the next check finds RSS back under it.
 *
 * Thread-safety: every call is lock-free (atomics) except the limit registration, which takes a
 * mutex; all may be called from any thread. */
#ifndef LLMOTLP_MEMBUDGET_H
#define LLMOTLP_MEMBUDGET_H

#include <stdbool.h>
#include <stdint.h>

struct membudget;

/* The process-wide budget the receivers and exporter queues use. Never NULL. */
struct membudget *membudget_process(void);

/* A private budget (unit tests). NULL on out of memory. */
struct membudget *membudget_new(void);
void membudget_free(struct membudget *b);

/* Admits n bytes if they fit under the limit (always when unlimited); false when over the limit
 * or closed: the caller refuses the request with the retryable status. n == 0 always fits. */
bool membudget_try_acquire(struct membudget *b, uint64_t n);
/* Counts n bytes that are held already and cannot be refused (a persistent queue's records
 * loaded at start): used may then pass the limit, and new requests wait until it is back under. */
void membudget_acquire(struct membudget *b, uint64_t n);
/* Gives back n bytes acquired earlier. */
void membudget_release(struct membudget *b, uint64_t n);

uint64_t membudget_used(const struct membudget *b);
/* Highest `used` seen since creation or the last reset (benchmarks, tests). */
uint64_t membudget_peak(const struct membudget *b);
void membudget_reset_peak(struct membudget *b);
/* Effective limit: the smallest registered one, 0 = unlimited. */
uint64_t membudget_limit(const struct membudget *b);

/* Registers a limit (one per memory_limiter instance; the smallest wins) and removes it again at
 * shutdown. 0 or -1 when too many limits are registered (64). */
int membudget_limit_add(struct membudget *b, uint64_t limit);
void membudget_limit_remove(struct membudget *b, uint64_t limit);

/* Closes (true) or reopens (false) the budget on behalf of one holder; closed while any holder
 * keeps it closed. Each holder must pair its calls (a close per open). */
void membudget_close(struct membudget *b, bool closed);
bool membudget_closed(const struct membudget *b);

#endif
