/* mapping.c — the data of the genai_semconv processor: one row per legacy attribute name (what
 * it becomes, how its value converts, for which target and signals), the value rename tables
 * (provider and operation names), and the server.address → provider table.
 *
 * The one idea: adding a convention is adding rows here; the processor code never names a legacy
 * attribute. Rows are looked up through open-addressing hash indexes (one per target, one across
 * targets) built once from the table, so the per-attribute cost does not grow with the table.
 *
 * Sources: semantic-conventions v1.41.0 model/gen-ai/deprecated/registry-deprecated.yaml;
 * semantic-conventions-genai (cache_write, reasoning.level, audio tokens, top_k as int);
 * OpenLLMetry semconv_ai; OpenInference semconv trace; OpenLIT semcov; LiteLLM opentelemetry.py;
 * Vercel AI SDK telemetry (as ingested by Langfuse); the Collector contrib gen_ai_normalizer
 * processor's openinference and openllmetry tables (rows marked with their GS_SRC_* bit). */
#include "processors/genai_semconv/genai_semconv.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* ---- value rename tables --------------------------------------------------------------------- */

/* Known values map to themselves too, so case variants ("Anthropic", "OpenAI") normalize. */
static const struct gs_value_pair provider_pairs[] = {
    {"gemini", "gcp.gemini"},                 /* semconv ≤ v1.36, LiteLLM */
    {"vertex_ai", "gcp.vertex_ai"},           /* semconv ≤ v1.36, LiteLLM */
    {"vertex_ai_beta", "gcp.vertex_ai"},      /* LiteLLM */
    {"vertexai", "gcp.vertex_ai"},            /* OpenInference llm.system */
    {"az.ai.inference", "azure.ai.inference"},/* semconv ≤ v1.36 */
    {"az.ai.openai", "azure.ai.openai"},      /* semconv ≤ v1.36, OpenLLMetry */
    {"azure", "azure.ai.openai"},             /* LiteLLM, OpenInference, OpenLLMetry "Azure" */
    {"azure_openai", "azure.ai.openai"},      /* OpenLIT, LangChain "azure_openai" */
    {"google_genai", "gcp.gen_ai"},           /* LangChain / OpenLIT google-genai SDK */
    {"google_vertexai", "gcp.vertex_ai"},     /* LangChain "google_vertexai" */
    {"vertex", "gcp.vertex_ai"},              /* LiteLLM model prefix "vertex/" */
    {"aws_bedrock", "aws.bedrock"},           /* LangChain */
    {"azure_ai", "azure.ai.inference"},       /* LiteLLM */
    {"azure-openai", "azure.ai.openai"},      /* Vercel "azure-openai.chat" */
    {"xai", "x_ai"},                          /* semconv ≤ v1.36, LiteLLM, OpenInference */
    {"mistral", "mistral_ai"},                /* LiteLLM, Vercel "mistral.chat" */
    {"mistralai", "mistral_ai"},              /* OpenInference, OpenLLMetry "MistralAI" */
    {"bedrock", "aws.bedrock"},               /* LiteLLM */
    {"bedrock_converse", "aws.bedrock"},      /* LiteLLM */
    {"amazon-bedrock", "aws.bedrock"},        /* Vercel */
    {"aws", "aws.bedrock"},                   /* OpenInference, OpenLLMetry "AWS" */
    {"google", "gcp.gen_ai"},                 /* OpenInference, OpenLLMetry "Google" */
    {"google.generative-ai", "gcp.gemini"},   /* Vercel */
    {"google.vertex", "gcp.vertex_ai"},       /* Vercel "google.vertex.chat" */
    {"watsonx", "ibm.watsonx.ai"},            /* LiteLLM, OpenLLMetry "Watsonx" */
    {"moonshot", "moonshot_ai"},              /* OpenInference */
    {"cohere_chat", "cohere"},                /* LiteLLM */
    {"text-completion-openai", "openai"},     /* LiteLLM */
    {"anthropic", "anthropic"},
    {"aws.bedrock", "aws.bedrock"},
    {"azure.ai.inference", "azure.ai.inference"},
    {"azure.ai.openai", "azure.ai.openai"},
    {"cohere", "cohere"},
    {"deepseek", "deepseek"},
    {"gcp.gemini", "gcp.gemini"},
    {"gcp.gen_ai", "gcp.gen_ai"},
    {"gcp.vertex_ai", "gcp.vertex_ai"},
    {"groq", "groq"},
    {"ibm.watsonx.ai", "ibm.watsonx.ai"},
    {"mistral_ai", "mistral_ai"},
    {"moonshot_ai", "moonshot_ai"},
    {"openai", "openai"},
    {"perplexity", "perplexity"},
    {"x_ai", "x_ai"},
};
const struct gs_value_map gs_provider_values = {
    .name = "provider", .pairs = provider_pairs,
    .n = sizeof provider_pairs / sizeof provider_pairs[0], .strict = false, .dotted_prefix = true};

/* OpenLLMetry / LiteLLM llm.request.type and stray values of gen_ai.operation.name. */
static const struct gs_value_pair operation_pairs[] = {
    {"completion", "text_completion"},
    {"embedding", "embeddings"},
    {"chat", "chat"},
    {"text_completion", "text_completion"},
    {"embeddings", "embeddings"},
    {"generate_content", "generate_content"},
};
const struct gs_value_map gs_operation_values = {
    .name = "operation", .pairs = operation_pairs,
    .n = sizeof operation_pairs / sizeof operation_pairs[0], .strict = false};

/* Vercel AI SDK ai.operationId: only the provider-call spans are inference operations; the
 * wrapper spans (ai.generateText, ...) aggregate their steps and get no operation name. */
static const struct gs_value_pair vercel_operation_pairs[] = {
    {"ai.generateText.doGenerate", "chat"},
    {"ai.streamText.doStream", "chat"},
    {"ai.generateObject.doGenerate", "chat"},
    {"ai.streamObject.doStream", "chat"},
    {"ai.embed.doEmbed", "embeddings"},
    {"ai.embedMany.doEmbed", "embeddings"},
    {"ai.toolCall", "execute_tool"},
};
static const struct gs_value_map vercel_operation_values = {
    .name = "vercel_operation", .pairs = vercel_operation_pairs,
    .n = sizeof vercel_operation_pairs / sizeof vercel_operation_pairs[0], .strict = true};

/* llm.request.type as OpenLLMetry writes it (rerank spans are retrievals, as the Collector's
 * gen_ai_normalizer folds them). */
static const struct gs_value_pair request_type_pairs[] = {
    {"completion", "text_completion"},
    {"embedding", "embeddings"},
    {"rerank", "retrieval"},
    {"chat", "chat"},
    {"text_completion", "text_completion"},
    {"embeddings", "embeddings"},
    {"generate_content", "generate_content"},
};
static const struct gs_value_map request_type_values = {
    .name = "request_type", .pairs = request_type_pairs,
    .n = sizeof request_type_pairs / sizeof request_type_pairs[0], .strict = false};

/* The span kinds of OpenInference and OpenLLMetry as operation names, pair for pair the Collector
 * gen_ai_normalizer's tables. That processor keeps a kind it does not know as the operation name
 * ("GUARDRAIL"); genai_semconv leaves such a span's kind alone (strict), since an operation name
 * outside the convention's list is worse than none. */
static const struct gs_value_pair oi_kind_pairs[] = {
    {"llm", "chat"},
    {"embedding", "embeddings"},
    {"chain", "invoke_agent"},
    {"retriever", "retrieval"},
    {"reranker", "retrieval"},
    {"tool", "execute_tool"},
    {"agent", "invoke_agent"},
    {"prompt", "text_completion"},
};
static const struct gs_value_map oi_kind_values = {
    .name = "openinference_span_kind", .pairs = oi_kind_pairs,
    .n = sizeof oi_kind_pairs / sizeof oi_kind_pairs[0], .strict = true};
static const struct gs_value_map oi_source_operation_values = {
    .name = "openinference_operation", .pairs = oi_kind_pairs,
    .n = sizeof oi_kind_pairs / sizeof oi_kind_pairs[0], .strict = false};

/* The Collector's openllmetry source folds traceloop.span.kind and llm.request.type through one
 * table, whichever of the two names the value came from; the first four are the span kinds. */
static const struct gs_value_pair oll_kind_pairs[] = {
    {"workflow", "invoke_workflow"},
    {"task", "invoke_agent"},
    {"agent", "invoke_agent"},
    {"tool", "execute_tool"},
    {"completion", "text_completion"},
    {"chat", "chat"},
    {"rerank", "retrieval"},
    {"embedding", "embeddings"},
};
static const struct gs_value_map traceloop_kind_values = {
    .name = "traceloop_span_kind", .pairs = oll_kind_pairs, .n = 4, .strict = true};
static const struct gs_value_map oll_source_operation_values = {
    .name = "openllmetry_operation", .pairs = oll_kind_pairs,
    .n = sizeof oll_kind_pairs / sizeof oll_kind_pairs[0], .strict = false};

const struct gs_value_map *gs_source_operation_values(enum gs_source s)
{
    return s == GS_SOURCE_OPENLLMETRY ? &oll_source_operation_values
                                      : &oi_source_operation_values;
}

/* gen_ai.openai.request.response_format → gen_ai.output.type. */
static const struct gs_value_pair output_type_pairs[] = {
    {"json_object", "json"},
    {"json_schema", "json"},
    {"text", "text"},
};
static const struct gs_value_map output_type_values = {
    .name = "output_type", .pairs = output_type_pairs,
    .n = sizeof output_type_pairs / sizeof output_type_pairs[0], .strict = false};

/* ---- the mapping table ----------------------------------------------------------------------- */

#define ROW(f, t, x, v, tg, origin) {f, t, x, v, tg, GS_ON_ALL, origin, 0, false}
/* A row the gen_ai_normalizer's built-in source(s) `src` share; WEAK: see gs_mapping.weak. */
#define SROW(f, t, x, v, tg, src, origin) {f, t, x, v, tg, GS_ON_ALL, origin, src, false}
#define WEAK(f, t, x, v, tg, src, origin) {f, t, x, v, tg, GS_ON_ALL, origin, src, true}
#define OI GS_SRC_OPENINFERENCE
#define OLL GS_SRC_OPENLLMETRY
#define IN_TOKENS "gen_ai.usage.input_tokens"
#define OUT_TOKENS "gen_ai.usage.output_tokens"
#define CACHE_READ "gen_ai.usage.cache_read.input_tokens"
#define CACHE_CREATION "gen_ai.usage.cache_creation.input_tokens" /* v1.41 */
#define CACHE_WRITE "gen_ai.usage.cache_write.input_tokens"       /* GenAI repo, #440 */
#define REASONING "gen_ai.usage.reasoning.output_tokens"
#define PROVIDER "gen_ai.provider.name"
#define FINISH "gen_ai.response.finish_reasons"

static const struct gs_mapping rows[] = {
    /* semconv ≤ v1.36, deprecated in v1.41.0 */
    ROW("gen_ai.system", PROVIDER, GS_X_STRING, &gs_provider_values, GS_FOR_ALL, "semconv<=1.36"),
    ROW("gen_ai.usage.prompt_tokens", IN_TOKENS, GS_X_INT, NULL, GS_FOR_ALL, "semconv<=1.26"),
    ROW("gen_ai.usage.completion_tokens", OUT_TOKENS, GS_X_INT, NULL, GS_FOR_ALL,
        "semconv<=1.26"),
    ROW("gen_ai.openai.request.seed", "gen_ai.request.seed", GS_X_INT, NULL, GS_FOR_ALL,
        "semconv<=1.36"),
    ROW("gen_ai.openai.request.response_format", "gen_ai.output.type", GS_X_STRING,
        &output_type_values, GS_FOR_ALL, "semconv<=1.36"),
    ROW("gen_ai.openai.request.service_tier", "openai.request.service_tier", GS_X_NONE, NULL,
        GS_FOR_ALL, "semconv<=1.36"),
    ROW("gen_ai.openai.response.service_tier", "openai.response.service_tier", GS_X_NONE, NULL,
        GS_FOR_ALL, "semconv<=1.36"),
    ROW("gen_ai.openai.response.system_fingerprint", "openai.response.system_fingerprint",
        GS_X_NONE, NULL, GS_FOR_ALL, "semconv<=1.36"),
    /* v1.41.0 ↔ the GenAI repository */
    ROW(CACHE_CREATION, CACHE_WRITE, GS_X_INT, NULL, GS_FOR_LATEST, "semconv v1.41"),
    ROW(CACHE_WRITE, CACHE_CREATION, GS_X_INT, NULL, GS_FOR_V141, "semconv-genai"),
    /* OpenLLMetry (traceloop), OpenLIT, LiteLLM under gen_ai.* */
    ROW("gen_ai.openai.system_fingerprint", "openai.response.system_fingerprint", GS_X_NONE, NULL,
        GS_FOR_ALL, "OpenLLMetry"),
    ROW("gen_ai.usage.cache_read_input_tokens", CACHE_READ, GS_X_INT, NULL, GS_FOR_ALL,
        "OpenLLMetry<0.5"),
    ROW("gen_ai.usage.prompt_tokens_details.cached_tokens", CACHE_READ, GS_X_INT, NULL,
        GS_FOR_ALL, "OpenLIT"),
    ROW("gen_ai.usage.cache_creation_input_tokens", CACHE_CREATION, GS_X_INT, NULL, GS_FOR_V141,
        "OpenLLMetry<0.5"),
    ROW("gen_ai.usage.cache_creation_input_tokens", CACHE_WRITE, GS_X_INT, NULL, GS_FOR_LATEST,
        "OpenLLMetry<0.5"),
    ROW("gen_ai.usage.prompt_tokens_details.cache_creation_tokens", CACHE_CREATION, GS_X_INT,
        NULL, GS_FOR_V141, "OpenLIT"),
    ROW("gen_ai.usage.prompt_tokens_details.cache_creation_tokens", CACHE_WRITE, GS_X_INT, NULL,
        GS_FOR_LATEST, "OpenLIT"),
    ROW("gen_ai.usage.reasoning_tokens", REASONING, GS_X_INT, NULL, GS_FOR_ALL, "OpenLLMetry"),
    ROW("gen_ai.usage.completion_tokens_details.reasoning_tokens", REASONING, GS_X_INT, NULL,
        GS_FOR_ALL, "OpenLIT"),
    ROW("gen_ai.response.finish_reason", FINISH, GS_X_STRING_ARRAY, NULL, GS_FOR_ALL,
        "OpenLLMetry"),
    ROW("gen_ai.is_streaming", "gen_ai.request.stream", GS_X_BOOL, NULL, GS_FOR_ALL, "LiteLLM"),
    ROW("gen_ai.request.reasoning_effort", "gen_ai.request.reasoning.level", GS_X_NONE, NULL,
        GS_FOR_LATEST, "OpenLLMetry"),
    /* OpenLLMetry llm.* */
    ROW("llm.vendor", PROVIDER, GS_X_STRING, &gs_provider_values, GS_FOR_ALL, "OpenLLMetry-2023"),
    SROW("llm.request.type", "gen_ai.operation.name", GS_X_STRING, &request_type_values,
        GS_FOR_ALL, OLL, "OpenLLMetry, LiteLLM"),
    SROW("llm.request.model", "gen_ai.request.model", GS_X_STRING, NULL, GS_FOR_ALL, OLL,
        "OpenLLMetry-2023"),
    SROW("llm.response.model", "gen_ai.response.model", GS_X_STRING, NULL, GS_FOR_ALL, OLL,
        "OpenLLMetry-2023"),
    SROW("llm.request.max_tokens", "gen_ai.request.max_tokens", GS_X_INT, NULL, GS_FOR_ALL, OLL,
        "OpenLLMetry"),
    ROW("llm.temperature", "gen_ai.request.temperature", GS_X_DOUBLE, NULL, GS_FOR_ALL,
        "OpenLLMetry"),
    ROW("llm.top_p", "gen_ai.request.top_p", GS_X_DOUBLE, NULL, GS_FOR_ALL, "OpenLLMetry"),
    SROW("llm.top_k", "gen_ai.request.top_k", GS_X_DOUBLE, NULL, GS_FOR_V141, OLL, "OpenLLMetry"),
    ROW("llm.top_k", "gen_ai.request.top_k", GS_X_INT, NULL, GS_FOR_LATEST, "OpenLLMetry"),
    SROW("llm.frequency_penalty", "gen_ai.request.frequency_penalty", GS_X_DOUBLE, NULL,
        GS_FOR_ALL, OLL, "OpenLLMetry"),
    SROW("llm.presence_penalty", "gen_ai.request.presence_penalty", GS_X_DOUBLE, NULL, GS_FOR_ALL,
         OLL, "OpenLLMetry"),
    SROW("llm.chat.stop_sequences", "gen_ai.request.stop_sequences", GS_X_STRING_ARRAY, NULL,
        GS_FOR_ALL, OLL, "OpenLLMetry"),
    SROW("llm.usage.prompt_tokens", IN_TOKENS, GS_X_INT, NULL, GS_FOR_ALL, OLL, "OpenLLMetry"),
    SROW("llm.usage.completion_tokens", OUT_TOKENS, GS_X_INT, NULL, GS_FOR_ALL, OLL, "OpenLLMetry"),
    ROW("llm.usage.reasoning_tokens", REASONING, GS_X_INT, NULL, GS_FOR_ALL, "OpenLLMetry"),
    ROW("llm.is_streaming", "gen_ai.request.stream", GS_X_BOOL, NULL, GS_FOR_ALL,
        "OpenLLMetry, LiteLLM"),
    SROW("llm.response.finish_reason", FINISH, GS_X_STRING_ARRAY, NULL, GS_FOR_ALL, OLL,
         "OpenLLMetry"),
    SROW("llm.response.stop_reason", FINISH, GS_X_STRING_ARRAY, NULL, GS_FOR_ALL, OLL,
         "OpenLLMetry"),
    SROW("llm.request.temperature", "gen_ai.request.temperature", GS_X_DOUBLE, NULL, GS_FOR_ALL,
         OLL, "OpenLLMetry"),
    SROW("llm.request.top_p", "gen_ai.request.top_p", GS_X_DOUBLE, NULL, GS_FOR_ALL, OLL,
         "OpenLLMetry"),
    SROW("llm.request.functions", "gen_ai.tool.definitions", GS_X_NONE, NULL, GS_FOR_ALL, OLL,
         "OpenLLMetry"),
    SROW("traceloop.span.kind", "gen_ai.operation.name", GS_X_STRING, &traceloop_kind_values,
         GS_FOR_ALL, OLL, "OpenLLMetry"),
    SROW("traceloop.entity.name", "gen_ai.agent.name", GS_X_STRING, NULL, GS_FOR_ALL, OLL,
         "OpenLLMetry"),
    SROW("traceloop.entity.input", "gen_ai.input.messages", GS_X_NONE, NULL, GS_FOR_ALL, OLL,
         "OpenLLMetry"),
    SROW("traceloop.entity.output", "gen_ai.output.messages", GS_X_NONE, NULL, GS_FOR_ALL, OLL,
         "OpenLLMetry"),
    /* OpenInference (Arize): llm.provider before llm.system, since "azure" + "openai" is Azure */
    SROW("llm.provider", PROVIDER, GS_X_STRING, &gs_provider_values, GS_FOR_ALL, OI,
         "OpenInference"),
    ROW("llm.system", PROVIDER, GS_X_STRING, &gs_provider_values, GS_FOR_ALL, "OpenInference"),
    SROW("llm.model_name", "gen_ai.request.model", GS_X_STRING, NULL, GS_FOR_ALL, OI,
         "OpenInference"),
    ROW("llm.request.model_name", "gen_ai.request.model", GS_X_STRING, NULL, GS_FOR_ALL,
        "OpenInference"),
    ROW("llm.response.model_name", "gen_ai.response.model", GS_X_STRING, NULL, GS_FOR_ALL,
        "OpenInference"),
    ROW("llm.finish_reason", FINISH, GS_X_STRING_ARRAY, NULL, GS_FOR_ALL, "OpenInference"),
    SROW("llm.token_count.prompt", IN_TOKENS, GS_X_INT, NULL, GS_FOR_ALL, OI, "OpenInference"),
    SROW("llm.token_count.completion", OUT_TOKENS, GS_X_INT, NULL, GS_FOR_ALL, OI, "OpenInference"),
    ROW("llm.token_count.prompt_details.cache_read", CACHE_READ, GS_X_INT, NULL, GS_FOR_ALL,
        "OpenInference"),
    ROW("llm.token_count.prompt_details.cache_write", CACHE_CREATION, GS_X_INT, NULL, GS_FOR_V141,
        "OpenInference"),
    ROW("llm.token_count.prompt_details.cache_write", CACHE_WRITE, GS_X_INT, NULL, GS_FOR_LATEST,
        "OpenInference"),
    ROW("llm.token_count.completion_details.reasoning", REASONING, GS_X_INT, NULL, GS_FOR_ALL,
        "OpenInference"),
    ROW("llm.token_count.prompt_details.audio", "gen_ai.usage.audio.input_tokens", GS_X_INT, NULL,
        GS_FOR_LATEST, "OpenInference"),
    ROW("llm.token_count.completion_details.audio", "gen_ai.usage.audio.output_tokens", GS_X_INT,
        NULL, GS_FOR_LATEST, "OpenInference"),
    SROW("embedding.model_name", "gen_ai.request.model", GS_X_STRING, NULL, GS_FOR_ALL, OI,
         "OpenInference"),
    SROW("reranker.model_name", "gen_ai.request.model", GS_X_STRING, NULL, GS_FOR_ALL, OI,
         "OpenInference"),
    SROW("openinference.span.kind", "gen_ai.operation.name", GS_X_STRING, &oi_kind_values,
         GS_FOR_ALL, OI, "OpenInference"),
    SROW("llm.input_messages", "gen_ai.input.messages", GS_X_NONE, NULL, GS_FOR_ALL, OI,
         "OpenInference"),
    SROW("llm.output_messages", "gen_ai.output.messages", GS_X_NONE, NULL, GS_FOR_ALL, OI,
         "OpenInference"),
    WEAK("tool.name", "gen_ai.tool.name", GS_X_STRING, NULL, GS_FOR_ALL, OI, "OpenInference"),
    WEAK("tool.description", "gen_ai.tool.description", GS_X_STRING, NULL, GS_FOR_ALL, OI,
         "OpenInference"),
    WEAK("tool_call.function.arguments", "gen_ai.tool.call.arguments", GS_X_NONE, NULL,
         GS_FOR_ALL, OI, "OpenInference"),
    WEAK("tool_call.id", "gen_ai.tool.call.id", GS_X_STRING, NULL, GS_FOR_ALL, OI,
         "OpenInference"),
    WEAK("tool_call.function.name", "gen_ai.tool.name", GS_X_STRING, NULL, GS_FOR_ALL, 0,
         "OpenInference"),
    WEAK("agent.name", "gen_ai.agent.name", GS_X_STRING, NULL, GS_FOR_ALL, OI, "OpenInference"),
    WEAK("session.id", "gen_ai.conversation.id", GS_X_STRING, NULL, GS_FOR_ALL, OI,
         "OpenInference"),
    /* Vercel AI SDK (v4 and v5 usage names) */
    ROW("ai.model.provider", PROVIDER, GS_X_STRING, &gs_provider_values, GS_FOR_ALL, "Vercel AI"),
    ROW("ai.model.id", "gen_ai.request.model", GS_X_STRING, NULL, GS_FOR_ALL, "Vercel AI"),
    ROW("ai.operationId", "gen_ai.operation.name", GS_X_STRING, &vercel_operation_values,
        GS_FOR_ALL, "Vercel AI"),
    ROW("ai.response.model", "gen_ai.response.model", GS_X_STRING, NULL, GS_FOR_ALL,
        "Vercel AI"),
    ROW("ai.response.id", "gen_ai.response.id", GS_X_STRING, NULL, GS_FOR_ALL, "Vercel AI"),
    ROW("ai.response.finishReason", FINISH, GS_X_STRING_ARRAY, NULL, GS_FOR_ALL, "Vercel AI"),
    ROW("ai.response.msToFirstChunk", "gen_ai.response.time_to_first_chunk", GS_X_MS_TO_S, NULL,
        GS_FOR_ALL, "Vercel AI"),
    ROW("ai.usage.promptTokens", IN_TOKENS, GS_X_INT, NULL, GS_FOR_ALL, "Vercel AI v4"),
    ROW("ai.usage.inputTokens", IN_TOKENS, GS_X_INT, NULL, GS_FOR_ALL, "Vercel AI v5"),
    ROW("ai.usage.completionTokens", OUT_TOKENS, GS_X_INT, NULL, GS_FOR_ALL, "Vercel AI v4"),
    ROW("ai.usage.outputTokens", OUT_TOKENS, GS_X_INT, NULL, GS_FOR_ALL, "Vercel AI v5"),
    ROW("ai.usage.cachedInputTokens", CACHE_READ, GS_X_INT, NULL, GS_FOR_ALL, "Vercel AI v5"),
    ROW("ai.usage.reasoningTokens", REASONING, GS_X_INT, NULL, GS_FOR_ALL, "Vercel AI v5"),
    ROW("ai.settings.maxTokens", "gen_ai.request.max_tokens", GS_X_INT, NULL, GS_FOR_ALL,
        "Vercel AI v4"),
    ROW("ai.settings.maxOutputTokens", "gen_ai.request.max_tokens", GS_X_INT, NULL, GS_FOR_ALL,
        "Vercel AI v5"),
    ROW("ai.settings.temperature", "gen_ai.request.temperature", GS_X_DOUBLE, NULL, GS_FOR_ALL,
        "Vercel AI"),
    /* Current names with foreign types or values (LiteLLM's JSON-string finish reasons and
     * string booleans, string token counts, "gemini" as a provider name, ...). */
    ROW(PROVIDER, PROVIDER, GS_X_STRING, &gs_provider_values, GS_FOR_ALL, "any"),
    ROW("gen_ai.operation.name", "gen_ai.operation.name", GS_X_STRING, &gs_operation_values,
        GS_FOR_ALL, "any"),
    ROW(IN_TOKENS, IN_TOKENS, GS_X_INT, NULL, GS_FOR_ALL, "any"),
    ROW(OUT_TOKENS, OUT_TOKENS, GS_X_INT, NULL, GS_FOR_ALL, "any"),
    ROW(CACHE_READ, CACHE_READ, GS_X_INT, NULL, GS_FOR_ALL, "any"),
    ROW(CACHE_CREATION, CACHE_CREATION, GS_X_INT, NULL, GS_FOR_V141, "any"),
    ROW(CACHE_WRITE, CACHE_WRITE, GS_X_INT, NULL, GS_FOR_LATEST, "any"),
    ROW(REASONING, REASONING, GS_X_INT, NULL, GS_FOR_ALL, "any"),
    ROW("gen_ai.request.max_tokens", "gen_ai.request.max_tokens", GS_X_INT, NULL, GS_FOR_ALL,
        "any"),
    ROW("gen_ai.request.seed", "gen_ai.request.seed", GS_X_INT, NULL, GS_FOR_ALL, "any"),
    ROW("gen_ai.request.choice.count", "gen_ai.request.choice.count", GS_X_INT, NULL, GS_FOR_ALL,
        "any"),
    ROW("gen_ai.request.temperature", "gen_ai.request.temperature", GS_X_DOUBLE, NULL,
        GS_FOR_ALL, "any"),
    ROW("gen_ai.request.top_p", "gen_ai.request.top_p", GS_X_DOUBLE, NULL, GS_FOR_ALL, "any"),
    ROW("gen_ai.request.frequency_penalty", "gen_ai.request.frequency_penalty", GS_X_DOUBLE, NULL,
        GS_FOR_ALL, "any"),
    ROW("gen_ai.request.presence_penalty", "gen_ai.request.presence_penalty", GS_X_DOUBLE, NULL,
        GS_FOR_ALL, "any"),
    ROW("gen_ai.request.top_k", "gen_ai.request.top_k", GS_X_DOUBLE, NULL, GS_FOR_V141, "any"),
    ROW("gen_ai.request.top_k", "gen_ai.request.top_k", GS_X_INT, NULL, GS_FOR_LATEST, "any"),
    ROW("gen_ai.request.stream", "gen_ai.request.stream", GS_X_BOOL, NULL, GS_FOR_ALL, "LiteLLM"),
    ROW(FINISH, FINISH, GS_X_STRING_ARRAY, NULL, GS_FOR_ALL, "LiteLLM"),
    ROW("gen_ai.request.stop_sequences", "gen_ai.request.stop_sequences", GS_X_STRING_ARRAY, NULL,
        GS_FOR_ALL, "any"),
};

#define NROWS (sizeof rows / sizeof rows[0])

const struct gs_mapping *gs_mapping_rows(size_t *n)
{
    *n = NROWS;
    return rows;
}

size_t gs_mapping_index(const struct gs_mapping *m)
{
    return (size_t)(m - rows);
}

/* ---- hash indexes ---------------------------------------------------------------------------- */

/* Slots hold row index + 1 (0 = empty); a power of two at least 4x the rows keeps probes short. */
#define SLOTS 512
_Static_assert(SLOTS >= 2 * NROWS, "mapping hash too small for the table");

enum {
    IDX_V141 = GS_TARGET_V141,
    IDX_LATEST = GS_TARGET_LATEST,
    IDX_ANY,
    IDX_SRC,
    IDX_COUNT = IDX_SRC + GS_SOURCE_COUNT
};
static uint16_t index_slots[IDX_COUNT][SLOTS];
/* First bytes of every from-name: most keys of a non-LLM span are ruled out without hashing. */
static bool first_byte[256];
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static uint32_t hash_key(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static void index_put(uint16_t *slots, size_t row)
{
    uint32_t i = hash_key(rows[row].from) & (SLOTS - 1);
    while (slots[i]) {
        if (strcmp(rows[slots[i] - 1].from, rows[row].from) == 0)
            return; /* first row wins: the precedence order */
        i = (i + 1) & (SLOTS - 1);
    }
    slots[i] = (uint16_t)(row + 1);
}

static void build_indexes(void)
{
    for (size_t r = 0; r < NROWS; r++) {
        for (int t = 0; t < GS_TARGET_COUNT; t++)
            if (rows[r].targets & (1u << t))
                index_put(index_slots[t], r);
        for (int s = 0; s < GS_SOURCE_COUNT; s++)
            if (rows[r].sources & (1u << s))
                index_put(index_slots[IDX_SRC + s], r);
        if (rows[r].weak)
            continue; /* renamed, but no sign of an LLM span */
        index_put(index_slots[IDX_ANY], r);
        first_byte[(uint8_t)rows[r].from[0]] = true;
    }
}

/* Keys come NUL-ended from protobuf-c and with a length from the span index; both hash the
 * same bytes. */
static uint32_t hash_key_n(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static const struct gs_mapping *index_get_n(int idx, const char *key, size_t len)
{
    pthread_once(&index_once, build_indexes);
    const uint16_t *slots = index_slots[idx];
    uint32_t i = hash_key_n(key, len) & (SLOTS - 1);
    while (slots[i]) {
        const struct gs_mapping *m = &rows[slots[i] - 1];
        if (strlen(m->from) == len && memcmp(m->from, key, len) == 0)
            return m;
        i = (i + 1) & (SLOTS - 1);
    }
    return NULL;
}

static const struct gs_mapping *index_get(int idx, const char *key)
{
    return index_get_n(idx, key, strlen(key));
}

const struct gs_mapping *gs_mapping_find(enum gs_target t, const char *key)
{
    if ((int)t < 0 || t >= GS_TARGET_COUNT || !key)
        return NULL;
    return index_get((int)t, key);
}

const struct gs_mapping *gs_source_find(enum gs_source s, const char *key)
{
    if ((int)s < 0 || s >= GS_SOURCE_COUNT || !key)
        return NULL;
    return index_get(IDX_SRC + (int)s, key);
}

bool gs_mapping_known(const char *key)
{
    if (!key)
        return false;
    return gs_mapping_known_n(key, strlen(key));
}

bool gs_mapping_known_n(const char *key, size_t len)
{
    if (!key || !len)
        return false;
    pthread_once(&index_once, build_indexes);
    return first_byte[(uint8_t)key[0]] && index_get_n(IDX_ANY, key, len) != NULL;
}

/* ---- value maps ------------------------------------------------------------------------------ */

static const char *value_exact(const struct gs_value_map *m, const char *v, size_t len)
{
    if (!len)
        return NULL; /* no pair has an empty from */
    /* the first byte, folded, rules out most pairs before their length is taken */
    int c0 = tolower((unsigned char)v[0]);
    for (size_t i = 0; i < m->n; i++)
        if (tolower((unsigned char)m->pairs[i].from[0]) == c0 &&
            strlen(m->pairs[i].from) == len && strncasecmp(m->pairs[i].from, v, len) == 0)
            return m->pairs[i].to;
    return NULL;
}

const char *gs_value_lookup(const struct gs_value_map *m, const char *v)
{
    if (!m || !v)
        return NULL;
    return gs_value_lookup_n(m, v, strlen(v));
}

const char *gs_value_lookup_n(const struct gs_value_map *m, const char *v, size_t len)
{
    if (!m || !v)
        return NULL;
    const char *to = value_exact(m, v, len);
    while (!to && m->dotted_prefix) {
        while (len > 0 && v[len - 1] != '.')
            len--;
        if (len <= 1)
            break;
        len--; /* drop the dot */
        to = value_exact(m, v, len);
    }
    return to;
}

/* ---- server.address → provider --------------------------------------------------------------- */

static const struct gs_host_rule host_rules[] = {
    {"api.openai.com", "openai"},
    {"api.anthropic.com", "anthropic"},
    {"*.openai.azure.com", "azure.ai.openai"},
    {"models.inference.ai.azure.com", "azure.ai.inference"},
    {"*.services.ai.azure.com", "azure.ai.inference"},
    {"*.inference.ai.azure.com", "azure.ai.inference"},
    {"generativelanguage.googleapis.com", "gcp.gemini"},
    {"aiplatform.googleapis.com", "gcp.vertex_ai"},
    {"*-aiplatform.googleapis.com", "gcp.vertex_ai"},
    {"bedrock-runtime.*.amazonaws.com", "aws.bedrock"},
    {"bedrock-runtime-fips.*.amazonaws.com", "aws.bedrock"},
    {"api.mistral.ai", "mistral_ai"},
    {"api.groq.com", "groq"},
    {"api.deepseek.com", "deepseek"},
    {"api.cohere.com", "cohere"},
    {"api.cohere.ai", "cohere"},
    {"api.x.ai", "x_ai"},
    {"api.perplexity.ai", "perplexity"},
    {"*.ml.cloud.ibm.com", "ibm.watsonx.ai"},
    {"api.moonshot.ai", "moonshot_ai"},
    {"api.moonshot.cn", "moonshot_ai"},
};

const struct gs_host_rule *gs_host_rules(size_t *n)
{
    *n = sizeof host_rules / sizeof host_rules[0];
    return host_rules;
}

/* A '*' matches one or more characters. */
static bool host_match(const char *pattern, const char *host, size_t hlen)
{
    const char *star = strchr(pattern, '*');
    if (!star)
        return strlen(pattern) == hlen && strncasecmp(pattern, host, hlen) == 0;
    size_t pre = (size_t)(star - pattern), suf = strlen(star + 1);
    return hlen > pre + suf && strncasecmp(pattern, host, pre) == 0 &&
           strncasecmp(star + 1, host + hlen - suf, suf) == 0;
}

const char *gs_provider_from_host(const char *host)
{
    if (!host)
        return NULL;
    return gs_provider_from_host_n(host, strlen(host));
}

const char *gs_provider_from_host_n(const char *host, size_t hlen)
{
    if (!host)
        return NULL;
    if (hlen > 0 && host[hlen - 1] == '.')
        hlen--; /* a fully qualified name */
    for (size_t i = 0; i < sizeof host_rules / sizeof host_rules[0]; i++)
        if (host_match(host_rules[i].pattern, host, hlen))
            return host_rules[i].provider;
    return NULL;
}

/* ---- semantic-conventions v1.40.0 types of gen_ai.* ------------------------------------------ */

/* The registry's non-deprecated gen_ai.* attributes and their types: the Collector's
 * gen_ai_normalizer coerces every value it writes to its target's type (the release it was built
 * against). Those of type "any" (messages, tool definitions and call arguments, ...) are absent,
 * and so written as they come. */
static const struct {
    const char *key;
    enum gs_xform type;
} semconv_types[] = {
    {"gen_ai.agent.description", GS_X_STRING},
    {"gen_ai.agent.id", GS_X_STRING},
    {"gen_ai.agent.name", GS_X_STRING},
    {"gen_ai.agent.version", GS_X_STRING},
    {"gen_ai.conversation.id", GS_X_STRING},
    {"gen_ai.data_source.id", GS_X_STRING},
    {"gen_ai.embeddings.dimension.count", GS_X_INT},
    {"gen_ai.evaluation.explanation", GS_X_STRING},
    {"gen_ai.evaluation.name", GS_X_STRING},
    {"gen_ai.evaluation.score.label", GS_X_STRING},
    {"gen_ai.evaluation.score.value", GS_X_DOUBLE},
    {"gen_ai.operation.name", GS_X_STRING},
    {"gen_ai.output.type", GS_X_STRING},
    {"gen_ai.prompt.name", GS_X_STRING},
    {"gen_ai.provider.name", GS_X_STRING},
    {"gen_ai.request.choice.count", GS_X_INT},
    {"gen_ai.request.encoding_formats", GS_X_STRING_ARRAY},
    {"gen_ai.request.frequency_penalty", GS_X_DOUBLE},
    {"gen_ai.request.max_tokens", GS_X_INT},
    {"gen_ai.request.model", GS_X_STRING},
    {"gen_ai.request.presence_penalty", GS_X_DOUBLE},
    {"gen_ai.request.seed", GS_X_INT},
    {"gen_ai.request.stop_sequences", GS_X_STRING_ARRAY},
    {"gen_ai.request.temperature", GS_X_DOUBLE},
    {"gen_ai.request.top_k", GS_X_DOUBLE},
    {"gen_ai.request.top_p", GS_X_DOUBLE},
    {"gen_ai.response.finish_reasons", GS_X_STRING_ARRAY},
    {"gen_ai.response.id", GS_X_STRING},
    {"gen_ai.response.model", GS_X_STRING},
    {"gen_ai.retrieval.query.text", GS_X_STRING},
    {"gen_ai.token.type", GS_X_STRING},
    {"gen_ai.tool.call.id", GS_X_STRING},
    {"gen_ai.tool.description", GS_X_STRING},
    {"gen_ai.tool.name", GS_X_STRING},
    {"gen_ai.tool.type", GS_X_STRING},
    {"gen_ai.usage.cache_creation.input_tokens", GS_X_INT},
    {"gen_ai.usage.cache_read.input_tokens", GS_X_INT},
    {"gen_ai.usage.input_tokens", GS_X_INT},
    {"gen_ai.usage.output_tokens", GS_X_INT},
};

enum gs_xform gs_semconv_type(const char *key)
{
    if (!key || strncmp(key, "gen_ai.", 7) != 0)
        return GS_X_NONE;
    for (size_t i = 0; i < sizeof semconv_types / sizeof semconv_types[0]; i++)
        if (strcmp(semconv_types[i].key, key) == 0)
            return semconv_types[i].type;
    return GS_X_NONE;
}
