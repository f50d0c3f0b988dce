/* gen_model.h — the traffic model of `llmotlp gen`: what an LLM gateway emits, as OTLP requests.
 *
 * One trace is one request through the gateway: a SERVER span (the seed's "LLMProxy.Gateway")
 * over 1–4 LLM CLIENT spans (scope "LLMProxy.LLM"): a plain chat or embeddings call, a fallback
 * chain (a call refused with 429/5xx, then another provider), or an agent (invoke_agent with
 * execute_tool children between its chat calls). LLM spans are written in one of four
 * instrumentation namings (current semconv, the deprecated gen_ai names, OpenInference,
 * OpenLLMetry) that genai_semconv turns into current gen_ai.* names. Alongside each batch of
 * traces: the gateway's semconv client metrics (gen_ai.client.operation.duration and
 * gen_ai.client.token.usage, one delta histogram point per group, with an exemplar pointing at
 * one of the group's spans) and log records correlated to the spans (an access log per trace, an
 * upstream log per LLM call).
 *
 * Ownership: a gen_model is the caller's (gen_model_free). A batch's requests live in the
 * batch's arena, valid until the next gen_model_batch on the same gen_batch or gen_batch_free.
 * Thread-safety: none; one model per thread. Deterministic: the same options (seed and time_ns
 * included) give the same bytes. Out of memory aborts the process (this is a command-line
 * generator: there is nothing sensible to send without the request). */
#ifndef LLMOTLP_GEN_MODEL_H
#define LLMOTLP_GEN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

enum gen_naming {
    GEN_NAMING_SEMCONV,       /* gen_ai.provider.name, gen_ai.usage.input_tokens, ... */
    GEN_NAMING_LEGACY,        /* gen_ai.system, gen_ai.usage.prompt_tokens, ... */
    GEN_NAMING_OPENINFERENCE, /* openinference.span.kind, llm.model_name, llm.token_count.* */
    GEN_NAMING_OPENLLMETRY,   /* llm.request.type, llm.usage.*, traceloop.* */
    GEN_NAMING_MIXED,         /* each trace one of the four, at random */
};
#define GEN_NAMING_STYLES 4 /* the concrete ones, before MIXED */

/* "semconv" ... "mixed"; -1 for anything else. */
int gen_naming_parse(const char *s);
const char *gen_naming_name(enum gen_naming n);

enum { GEN_SIG_TRACES = 1, GEN_SIG_METRICS = 2, GEN_SIG_LOGS = 4 };

/* A provider/model the traffic calls, named as the current conventions and the price list do. */
struct gen_llm {
    const char *provider; /* gen_ai.provider.name */
    const char *request;  /* gen_ai.request.model */
    const char *response; /* gen_ai.response.model */
    const char *operation;/* chat | embeddings */
    const char *server;   /* server.address */
    unsigned weight;
};
/* The catalogue; gen_stats.per_model is indexed like it. */
const struct gen_llm *gen_llm_catalog(size_t *n);
#define GEN_MAX_LLMS 16

struct gen_model_stat {
    uint64_t calls, errors, input_tokens, output_tokens, cache_read_tokens;
};

/* What one batch holds; summed by the caller over the requests that were accepted. */
struct gen_stats {
    uint64_t traces, spans, error_traces, fallback_traces, agent_traces, llm_calls, tool_calls;
    uint64_t input_tokens, output_tokens, cache_read_tokens;
    uint64_t by_naming[GEN_NAMING_STYLES]; /* traces */
    uint64_t metric_points, log_records;
    struct gen_model_stat per_model[GEN_MAX_LLMS];
};

struct gen_model_opts {
    uint64_t seed;       /* 0 is taken as 1 */
    enum gen_naming naming;
    double error_ratio;  /* share of traces whose every attempt fails, in [0, 1] */
    double fallback_ratio; /* share of the others whose first attempt fails, then a fallback */
    double agent_ratio;  /* share of traces that run an agent */
    unsigned tenants;    /* tenant-001 ... tenant-N; >= 1 */
    uint64_t time_ns;    /* end of the window the spans fall in; 0 = the clock at each batch */
    const char *service_name; /* resource service.name; NULL = "LLMProxy.Gateway" */
};

struct gen_model;
struct gen_model *gen_model_new(const struct gen_model_opts *o);
void gen_model_free(struct gen_model *m);

struct gen_batch {
    struct arena *arena;
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *traces;
    Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *metrics;
    Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *logs;
    struct gen_stats stats;
};
void gen_batch_init(struct gen_batch *b);
void gen_batch_free(struct gen_batch *b);

/* Builds `n` traces (n >= 1) and, when `signals` asks, their metrics and logs into b (NULL for a
 * signal not asked). The trace request is always built: metrics and logs derive from it. */
void gen_model_batch(struct gen_model *m, unsigned n, unsigned signals, struct gen_batch *b);

/* Adds b into acc (all fields). */
void gen_stats_add(struct gen_stats *acc, const struct gen_stats *b);

#endif
