/* forward.c — the Collector's `forward` connector: the exporter of one pipeline and the receiver
 * of others of the same signal, so a pipeline can feed several pipelines (different processors
 * per destination) or several pipelines can merge into one.
 * The one idea: the batch goes on unchanged to next[its own signal]; the service wires next[] to
 * the fan-out over every pipeline that lists the connector as a receiver, and the factory's
 * routes[] (traces→traces, metrics→metrics, logs→logs) make the graph check refuse any pipeline
 * pair that would change the signal. */
#include <stdlib.h>

#include "core/component.h"
#include "core/config.h"

/* The Collector's forward connector takes no settings; the struct only gives the binder a
 * non-empty place to bind into. */
struct forward_config {
    char unused;
};

static const struct config_field forward_fields[] = {
    {.name = NULL},
};

struct forward {
    struct consumer *next[SIGNAL_COUNT];
};

static void *forward_create(const void *cfg, const struct component_env *env, struct error *err)
{
    (void)cfg;
    struct forward *f = calloc(1, sizeof *f);
    if (!f) {
        error_set(err, "out of memory");
        return NULL;
    }
    for (int s = 0; s < SIGNAL_COUNT; s++)
        f->next[s] = env->next[s];
    return f;
}

static enum consume_status forward_consume(void *self, struct batch *b)
{
    struct forward *f = self;
    struct consumer *next = f->next[b->signal];
    /* The graph check guarantees an output pipeline for every input signal; a batch of a signal
     * nobody takes has nowhere to go and is refused rather than lost. */
    if (!next)
        return CONSUME_REJECT;
    return consumer_send(next, b);
}

static void forward_destroy(void *self)
{
    free(self);
}

#define ALL_SIGNALS ((1u << SIGNAL_TRACES) | (1u << SIGNAL_METRICS) | (1u << SIGNAL_LOGS))

const struct component_factory forward_connector_factory = {
    .type = "forward",
    .kind = COMPONENT_CONNECTOR,
    .doc = "passes data unchanged from a pipeline to other pipelines of the same signal",
    .fields = forward_fields,
    .config_size = sizeof(struct forward_config),
    .signals = ALL_SIGNALS,
    .out_signals = ALL_SIGNALS,
    .routes = {
        [SIGNAL_TRACES] = 1u << SIGNAL_TRACES,
        [SIGNAL_METRICS] = 1u << SIGNAL_METRICS,
        [SIGNAL_LOGS] = 1u << SIGNAL_LOGS,
    },
    .create = forward_create,
    .consume = forward_consume,
    .destroy = forward_destroy,
};
