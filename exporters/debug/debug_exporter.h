/* debug_exporter.h — the text rendering behind the `debug` exporter, exposed so tests can render
 * into any FILE*. The exporter itself is reached through debug_exporter_factory (registry.c).
 *
 * debug_format() reads the decoded face of a request only; it allocates nothing but what stdio
 * does, keeps no state and is thread-safe (callers serialise writes to a shared FILE*). */
#ifndef LLMOTLP_DEBUG_EXPORTER_H
#define LLMOTLP_DEBUG_EXPORTER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <protobuf-c/protobuf-c.h>

#include "core/component.h"
#include "core/exporter_helper.h"
#include "core/config.h"
#include "core/otlp.h"

/* Collector's `verbosity` values, in the order of the config enum. */
enum debug_verbosity { DEBUG_BASIC = 0, DEBUG_NORMAL = 1, DEBUG_DETAILED = 2 };

/* Bound from YAML by the exporter's field table (Collector keys and defaults). */
struct debug_exporter_config {
    int verbosity;                 /* enum debug_verbosity; default basic */
    int64_t sampling_initial;      /* default 2: messages per second before sampling */
    int64_t sampling_thereafter;   /* default 1: then every Nth; 0 = none */
    bool use_internal_logger;      /* default true: service logger; false: output_paths */
    /* Where the text goes without the service logger: "stdout", "stderr", a file path (created,
     * appended to) or a file:///absolute URL. Absent = stdout; items is NULL only when the key is
     * absent (config_bind allocates for an empty list), so validate can refuse `[]` and the key
     * next to use_internal_logger: true, as the Collector does. */
    struct config_str_list output_paths;
    /* The Collector's optional sending_queue (exporterhelper's QueueBatchConfig): bound with its
     * types and checks; the output is written synchronously either way, so an enabled queue is
     * warned about. */
    struct queue_config sending_queue;
    bool has_sending_queue;        /* the key appears */
};

extern const struct component_factory debug_exporter_factory;

/* The one summary line, without newline, e.g. "Traces: resource spans: 1, spans: 3". */
void debug_summary(FILE *out, enum signal s, const ProtobufCMessage *req);
/* Everything below the summary for `v` (nothing for DEBUG_BASIC), one item per line at
 * DEBUG_NORMAL, the Collector's full dump at DEBUG_DETAILED. `req` is an Export*ServiceRequest of
 * signal `s`. */
void debug_format(FILE *out, enum debug_verbosity v, const ProtobufCMessage *req, enum signal s);

#endif
