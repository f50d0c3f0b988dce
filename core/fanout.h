/* fanout.h — one consumer that hands the same batch to several consumers: a pipeline's
 * exporters, or the entries of every pipeline a receiver or connector feeds.
 *
 * The batch is lent to each consumer in turn on the caller's thread. While it does so the fan-out
 * holds a reference of its own, so every consumer sees the batch as shared and a processor that
 * edits takes a private copy (batch_edit) instead of changing what the next consumer receives.
 * The answers combine as the Collector's fan-out does: OK when every consumer took the batch,
 * RETRY when any asked for a retry, else REJECT when any rejected it.
 *
 * Ownership: the fan-out borrows the consumers (they must outlive it) and owns its array.
 * Thread-safety: immutable after fanout_new; consume may run on many threads at once. */
#ifndef LLMOTLP_FANOUT_H
#define LLMOTLP_FANOUT_H

#include <stddef.h>

#include "core/component.h"

struct fanout;

/* Copies the array of n (>= 1) consumers. NULL on out of memory. */
struct fanout *fanout_new(struct consumer *const *consumers, size_t n);
void fanout_free(struct fanout *f);
/* The consumer face, valid until fanout_free. */
struct consumer *fanout_consumer(struct fanout *f);
size_t fanout_count(const struct fanout *f);

#endif
