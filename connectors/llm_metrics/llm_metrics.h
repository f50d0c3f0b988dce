/* llm_metrics.h — the `llm_metrics` connector: the exporter of a traces pipeline and the
 * receiver of a metrics pipeline. It turns every LLM span it sees into the seed's seven business
 * metrics and the GenAI semantic-convention client metrics, and emits them every
 * export_interval as one OTLP metrics request. It sits before tail sampling, so the figures
 * count 100% of the traffic whatever sampling keeps.
 *
 * Metrics (name, instrument, unit, attributes):
 *   llmproxy.request.duration        histogram  s          provider, model, dimensions...
 *   llmproxy.request.count           counter    {request}  tenant, provider, status, dimensions...
 *   llmproxy.tokens.input            counter    {token}    tenant, model, dimensions...
 *   llmproxy.tokens.output           counter    {token}    tenant, model, dimensions...
 *   llmproxy.cost.estimated          counter    {cent}     tenant, dimensions...   (double)
 *   llmproxy.provider.availability   gauge      (none)     provider                (0 or 1)
 *   llmproxy.ratelimit.remaining     gauge      {request}  tenant                  (last seen)
 *   gen_ai.client.operation.duration histogram  s          gen_ai.operation.name, gen_ai.provider.name,
 *                                                          gen_ai.request.model, gen_ai.response.model,
 *                                                          server.address, server.port, error.type
 *   gen_ai.client.token.usage        histogram  {token}    the same without error.type, plus
 *                                                          gen_ai.token.type (input | output)
 * The semconv histograms use the conventions' recommended bucket boundaries; the llmproxy
 * histogram uses histogram_buckets. Attributes absent from a span are left out of the point
 * (the semconv ones) or set to "unknown" (provider, model, tenant).
 *
 * An LLM span: one whose gen_ai.operation.name is an inference operation (chat,
 * text_completion, generate_content, embeddings) or absent, and that names a provider
 * (gen_ai.provider.name, else gen_ai.system) or a model (gen_ai.response.model, else
 * gen_ai.request.model). Other spans are ignored. The model label is the response model, else
 * the request model (the model that was billed, as the cost processor prices it).
 *
 * The one idea: aggregation happens at ingest into a fixed set of series (one hash table,
 * bounded by max_series per metric; past it a point goes to the metric's one overflow series,
 * whose only attribute is otel.metric.overflow=true, under a resource without attributes, and
 * is counted), and an export only reads
 * the series. Under delta temporality what an export reported is subtracted only once the
 * downstream took it, so a refused export loses nothing: the next one carries it.
 *
 * Reading: consume() reads spans through the batch's span index (core/wire_index.h), shared
 * with the pipeline's processors, and never decodes the request; at create it declares the
 * attributes it reads (the GenAI names, tenant, status, rate-limit, dimensions, resource
 * attributes) in the service's index interest.
 *
 * Thread-safety: consume() is called from any number of receiver threads; one timer thread
 * exports. Ownership: the connector keeps no reference to the batches it reads. */
#ifndef LLMOTLP_LLM_METRICS_H
#define LLMOTLP_LLM_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/component.h"
#include "core/config.h"

enum llm_metrics_temporality { LLM_METRICS_CUMULATIVE = 0, LLM_METRICS_DELTA = 1 };

struct llm_metrics_attribute_names {
    char *tenant;                          /* default "tenant.id": span attribute, else resource */
    char *status;                          /* "" (default): the span status, "ok" or "error";
                                              else this attribute's value as text (the span
                                              status when the span lacks it) */
    struct config_str_list ratelimit_remaining; /* the first holding a number wins; default
                                              [llmproxy.ratelimit.remaining,
                                               http.response.header.x-ratelimit-remaining-requests] */
};

struct llm_metrics_config {
    struct config_double_list histogram_buckets; /* llmproxy.request.duration bounds, seconds;
                                                    default [0.01,0.05,0.1,0.5,1,2,5,10,30,60] */
    int64_t export_interval;                  /* ns; default 15s */
    int aggregation_temporality;              /* enum llm_metrics_temporality; default cumulative.
                                                 AGGREGATION_TEMPORALITY_CUMULATIVE / _DELTA
                                                 bind as 2 / 3: read it modulo 2 */
    struct config_str_list dimensions;        /* extra attributes (span, else resource) on the
                                                 llmproxy.* request/token/cost metrics */
    struct config_str_list resource_attributes; /* resource attributes of the spans kept on the
                                                 emitted metrics' resource; default [service.name] */
    struct llm_metrics_attribute_names attribute_names;
    int64_t availability_window;              /* ns; default 5m */
    double availability_error_threshold;      /* failed share above which availability is 0;
                                                 default 0.5 */
    int64_t max_series;                       /* per metric; default 10000 */
};

extern const struct component_factory llm_metrics_connector_factory;

/* Test hooks. The clock (CLOCK_REALTIME ns by default) stamps points and drives the
 * availability window; llm_metrics_flush runs one export at once (as the timer does) and
 * returns the downstream's answer (CONSUME_OK when there was nothing to send). */
void llm_metrics_set_clock(void *connector, int64_t (*now)(void *ctx), void *ctx);
enum consume_status llm_metrics_flush(void *connector);
/* Test hook: read spans from the request's decoded face (protobuf-c structs) instead of the span
 * index that consume() reads in production. Both readers feed the same code and must give the
 * same series; the differential test holds them to it. */
void llm_metrics_read_structs(void *connector, bool on);
/* Test hook: empties the label-set cache (each span's label set mapped to its series, so that a
 * span seen before costs one lookup) and sets how many label sets it holds before it is emptied
 * again; 0 turns it off, every update then looks its series up by its key. Series and what they
 * hold are untouched: with or without the cache the exports must be the same. */
void llm_metrics_set_cache(void *connector, size_t max_label_sets);

#endif
