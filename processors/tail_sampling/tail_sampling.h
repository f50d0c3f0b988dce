/* tail_sampling.h — the Collector's `tail_sampling` processor: spans are held per trace until
 * the trace is complete enough to decide (decision_wait after its first span, or sooner after its
 * root), then policies decide, and kept traces leave whole. Log records that carry a trace ID
 * wait with their trace in a `logs` pipeline using the same processor ID.
 *
 * The component is reached through tail_sampling_processor_factory (registry.c); the config
 * struct is public so tests can build one. Instances are thread-safe: consume() runs on any
 * number of receiver threads; a timer thread decides. The test hooks below let a test drive the
 * clock and the decision pass without waiting. */
#ifndef LLMOTLP_TAIL_SAMPLING_H
#define LLMOTLP_TAIL_SAMPLING_H

#include <stdbool.h>
#include <stdint.h>

#include "core/component.h"
#include "core/config.h"

struct tail_sampling_decision_cache {
    int64_t sampled_cache_size;       /* trace IDs of kept traces remembered; 0 = none */
    int64_t non_sampled_cache_size;   /* trace IDs of dropped traces remembered; 0 = none */
};

struct tail_sampling_config {
    int64_t decision_wait;                      /* ns after a trace's first span */
    int64_t decision_wait_after_root_received;  /* ns after its root span; 0 = off */
    int64_t num_traces;                         /* traces held at most */
    int64_t expected_new_traces_per_sec;        /* sizing hint */
    struct tail_sampling_decision_cache decision_cache;
    bool sample_on_first_match;
    int64_t maximum_trace_size_bytes;           /* a larger trace is dropped; 0 = no limit */
    bool drop_pending_traces_on_shutdown;
    bool block_on_overflow;                     /* true is warned about: we decide early */
    int sampling_strategy;                      /* 0 = trace-complete (the only one) */
    int64_t num_shards;                         /* no_effect: one store */
    const struct cnode *policies;               /* the policy list, compiled at create */
    int64_t max_buffered_bytes;                 /* bound on retained bytes */
    struct config_str_list propagate_attributes;
    bool decision_attributes;                   /* llmotlp: sampling.policy on kept spans */
    bool record_policy;                         /* the Collector's recordpolicy gate: scopes */
};

extern const struct component_factory tail_sampling_processor_factory;

/* Test hooks. The clock (CLOCK_MONOTONIC ns by default) drives decision deadlines and policy
 * budgets; tail_sampling_tick runs one decision pass at once and returns the traces decided. */
void tail_sampling_set_clock(void *proc, int64_t (*now)(void *ctx), void *ctx);
size_t tail_sampling_tick(void *proc);
/* Kept traces released together share requests of at most about `bytes` (0: the default,
 * 1 MiB); a trace larger than that goes alone, whole. */
void tail_sampling_set_release_limit(void *proc, size_t bytes);

#endif
