/* component.h — the component model: every receiver, processor, exporter, connector and
 * extension is a factory in one registry (registry.c), with its config declared as a field table
 * (config.h) and a create/start/consume/shutdown/destroy life cycle driven by the service.
 *
 * Data moves by consume(): a component hands a batch to its `next` consumer, which runs
 * synchronously on the caller's thread (as the Collector's consumers do) and answers whether it
 * took it. Backpressure is an answer, not a wait without end: CONSUME_RETRY means "full, try
 * later" and becomes gRPC UNAVAILABLE at the receiver. */
#ifndef LLMOTLP_COMPONENT_H
#define LLMOTLP_COMPONENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/batch.h"
#include "core/error.h"
#include "core/otlp.h"

struct cnode;
struct config_field;
struct config_warn_sink;
struct telemetry;
struct service;

enum consume_status {
    CONSUME_OK = 0,     /* taken: delivered, queued, or deliberately dropped and counted */
    CONSUME_RETRY = 1,  /* not taken, transient (queue full, shutting down): sender may retry */
    CONSUME_REJECT = 2, /* not taken, permanent (bad data): sender must not retry */
};

/* A downstream hop. consume borrows the batch (see batch.h). Thread-safe: called concurrently
 * from receiver threads. */
struct consumer {
    enum consume_status (*consume)(struct consumer *self, struct batch *b);
};

static inline enum consume_status consumer_send(struct consumer *c, struct batch *b)
{
    return c->consume(c, b);
}

enum component_kind {
    COMPONENT_RECEIVER,
    COMPONENT_PROCESSOR,
    COMPONENT_EXPORTER,
    COMPONENT_CONNECTOR,
    COMPONENT_EXTENSION,
    COMPONENT_KIND_COUNT
};
const char *component_kind_name(enum component_kind k);        /* "receiver" ... */
const char *component_kind_section(enum component_kind k);     /* "receivers" ... */

/* The service's life-cycle state, as extensions see it through component_env.service_state:
 * STARTING until every component has started, READY while running, STOPPING from the first
 * step of shutdown on (extensions stop last, so a health check answers "not available" while
 * receivers and exporters drain). */
enum service_state { SERVICE_STARTING = 0, SERVICE_READY = 1, SERVICE_STOPPING = 2 };

/* What the service gives a component at create time; valid until destroy. */
struct component_env {
    const char *id;                 /* "type" or "type/name" */
    const char *log_name;           /* "exporter/otlp/2", for log lines */
    /* Receivers and connectors: downstream per signal they emit (NULL where no pipeline takes
     * that signal from this component). Processors: next[signal] is the rest of the pipeline. */
    struct consumer *next[SIGNAL_COUNT];
    /* Processors and connectors: the signal of the pipeline they sit in (input side). */
    enum signal signal;
    /* Connectors: which output signals are wired (also visible as next[] != NULL). */
    struct telemetry *telemetry;    /* own metrics registry */
    /* enum service_state, updated by the service; read with atomic_load from any thread. Never
     * NULL when created by the service; may be NULL when a test creates a component directly. */
    const _Atomic int *service_state;
    /* The running service, for read-only introspection through service.h (the zpages pages):
     * its pipelines and extensions do not change while any component lives. NULL when a test
     * creates a component directly. */
    const struct service *service;
    /* The service's span-index interest (core/wire_index.h): a processor or connector that reads
     * batches through batch_index() declares at create the attribute keys it reads, and passes
     * this pointer to batch_index(). NULL when a test creates a component directly (then NULL is
     * passed on, meaning every attribute). Not for use after start. */
    struct wire_interest *interest;
};

struct component_factory {
    const char *type;                    /* "otlp", "batch", "debug", ... */
    enum component_kind kind;
    const char *doc;                     /* one line for `llmotlp components` */
    const struct config_field *fields;   /* NULL-name terminated; see config.h */
    size_t config_size;
    /* Signals supported: bit (1 << SIGNAL_x). Connectors: input signals, and out_signals. */
    unsigned signals;
    unsigned out_signals;                /* connectors only: bit (1 << SIGNAL_x) per output */
    /* Connectors only, optional: routes[in] = output signals reachable from input signal `in`
     * (the Collector's per-pair connector support: forward is traces→traces only). All zero
     * means every input in `signals` reaches every output in `out_signals`. */
    unsigned routes[SIGNAL_COUNT];
    /* Optional: checks across fields after binding. 0 or -1 with err. */
    int (*validate)(const void *cfg, struct error *err);
    /* Optional, after validate succeeded: reports settings that are accepted but change nothing
     * in this combination ("storage is ignored while enabled is false"), each with
     * config_warnf(w, key node, key path, ...) at the key it is about; `node` is the settings as
     * written (NULL when none), cnode_find_key() finds the key. Unconditional ones are declared
     * in the field table instead (config_field.no_effect). Cannot fail: a setting that would
     * mislead is an error of validate, not a warning. */
    void (*warn)(const void *cfg, const struct cnode *node, const struct config_warn_sink *w);
    /* Builds an instance. cfg stays valid until destroy. Processors and connectors are created
     * once per pipeline they appear in; receivers, exporters and extensions once per ID. */
    void *(*create)(const void *cfg, const struct component_env *env, struct error *err);
    /* Optional: opens ports, starts threads. Called exporters first, receivers last. */
    int (*start)(void *self, struct error *err);
    /* Receivers: stop accepting. Processors: flush what they hold downstream. Exporters: drain
     * their queue until deadline_ns (CLOCK_MONOTONIC), then count and log what is left. Called
     * receivers first, exporters last. */
    void (*shutdown)(void *self, int64_t deadline_ns);
    /* Processors, exporters, connectors. Same contract as struct consumer. */
    enum consume_status (*consume)(void *self, struct batch *b);
    void (*destroy)(void *self);
    /* Extensions only, optional: interfaces the extension serves to other components, by name
     * (core/auth.h's AUTH_SERVER_INTERFACE, AUTH_CLIENT_INTERFACE). `provides` answers from the
     * bound config at load, so that naming an extension that cannot serve is a config error with
     * its position; `interface` returns the created instance's (NULL if none). */
    bool (*provides)(const void *cfg, const char *iface);
    void *(*interface)(void *self, const char *iface);
    /* Optional: whether the bound config can serve a pipeline of signal s (a setting that means
     * something for one signal only, as loadbalancing's routing_key). Called at load for every
     * pipeline that names the component, so a mismatch is a config error at the pipeline's
     * line; 0, or -1 with err set (the message, without position). */
    int (*signal_check)(const void *cfg, enum signal s, struct error *err);
};

/* The registry (registry.c): every factory compiled in. NULL-terminated. */
extern const struct component_factory *const component_factories[];
const struct component_factory *component_find(enum component_kind kind, const char *type);
/* Comma-separated types of one kind, for "unknown type" messages. Static buffer per kind. */
const char *component_types_list(enum component_kind kind);

/* Monotonic clock in ns, the time base of every deadline. */
int64_t clock_now_ns(void);

#endif
