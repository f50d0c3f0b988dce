/* batch_processor.h — the Collector's `batch` processor: merges requests of one pipeline into
 * larger ones (by item count or after a timeout) and splits those above a maximum size.
 * The component is reached through batch_processor_factory (registry.c); the config struct is
 * public so tests and tools can build one without YAML.
 *
 * Instances are thread-safe: consume() is called from any number of receiver threads. */
#ifndef LLMOTLP_BATCH_PROCESSOR_H
#define LLMOTLP_BATCH_PROCESSOR_H

#include <stdint.h>

#include "core/component.h"
#include "core/config.h"

struct batch_processor_config {
    int64_t send_batch_size;            /* items that trigger a send; 0 = only the timeout does */
    int64_t send_batch_max_size;        /* items per output request; 0 = no limit */
    int64_t timeout;                    /* ns after the first pending item; 0 = send at once */
    struct config_str_list metadata_keys;   /* accepted; no request carries client metadata */
    int64_t metadata_cardinality_limit;     /* accepted for compatibility; unused */
};

extern const struct component_factory batch_processor_factory;

#endif
