/* registry.c — every factory compiled into llmotlp, in one table (as the Collector's
 * components.go). Adding a component is one extern line and one table entry. */
#include "core/component.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

extern const struct component_factory otlp_receiver_factory;
extern const struct component_factory batch_processor_factory;
extern const struct component_factory memory_limiter_processor_factory;
extern const struct component_factory tail_sampling_processor_factory;
extern const struct component_factory genai_semconv_processor_factory;
extern const struct component_factory gen_ai_normalizer_processor_factory;
extern const struct component_factory genai_content_processor_factory;
extern const struct component_factory cost_processor_factory;
extern const struct component_factory resourcedetection_processor_factory;
extern const struct component_factory resource_detection_processor_factory;
extern const struct component_factory filter_processor_factory;
extern const struct component_factory transform_processor_factory;
extern const struct component_factory attributes_processor_factory;
extern const struct component_factory resource_processor_factory;
extern const struct component_factory otlp_exporter_factory;
extern const struct component_factory otlp_grpc_exporter_factory;
extern const struct component_factory otlphttp_exporter_factory;
extern const struct component_factory otlp_http_exporter_factory;
extern const struct component_factory debug_exporter_factory;
extern const struct component_factory loadbalancing_exporter_factory;
extern const struct component_factory forward_connector_factory;
extern const struct component_factory llm_metrics_connector_factory;
extern const struct component_factory prometheus_exporter_factory;
extern const struct component_factory health_check_extension_factory;
extern const struct component_factory zpages_extension_factory;
extern const struct component_factory pprof_extension_factory;
extern const struct component_factory file_storage_extension_factory;
extern const struct component_factory bearertokenauth_extension_factory;
extern const struct component_factory basicauth_extension_factory;

const struct component_factory *const component_factories[] = {
    &otlp_receiver_factory,
    &batch_processor_factory,
    &memory_limiter_processor_factory,
    &tail_sampling_processor_factory,
    &genai_semconv_processor_factory,
    &gen_ai_normalizer_processor_factory,
    &genai_content_processor_factory,
    &cost_processor_factory,
    &resourcedetection_processor_factory,
    &resource_detection_processor_factory,
    &filter_processor_factory,
    &transform_processor_factory,
    &attributes_processor_factory,
    &resource_processor_factory,
    &otlp_exporter_factory,
    &otlp_grpc_exporter_factory,
    &otlphttp_exporter_factory,
    &otlp_http_exporter_factory,
    &debug_exporter_factory,
    &loadbalancing_exporter_factory,
    &prometheus_exporter_factory,
    &forward_connector_factory,
    &llm_metrics_connector_factory,
    &health_check_extension_factory,
    &zpages_extension_factory,
    &pprof_extension_factory,
    &file_storage_extension_factory,
    &bearertokenauth_extension_factory,
    &basicauth_extension_factory,
    NULL,
};

static const char *const kind_names[] = {"receiver", "processor", "exporter", "connector", "extension"};
static const char *const kind_sections[] = {"receivers", "processors", "exporters", "connectors",
                                            "extensions"};

const char *component_kind_name(enum component_kind k) { return kind_names[k]; }
const char *component_kind_section(enum component_kind k) { return kind_sections[k]; }

const struct component_factory *component_find(enum component_kind kind, const char *type)
{
    for (size_t i = 0; component_factories[i]; i++)
        if (component_factories[i]->kind == kind && strcmp(component_factories[i]->type, type) == 0)
            return component_factories[i];
    return NULL;
}

const char *component_types_list(enum component_kind kind)
{
    static char lists[COMPONENT_KIND_COUNT][512];
    char *buf = lists[kind];
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; component_factories[i]; i++) {
        if (component_factories[i]->kind != kind)
            continue;
        n += (size_t)snprintf(buf + n, sizeof lists[kind] - n, "%s%s", n ? ", " : "",
                              component_factories[i]->type);
        if (n >= sizeof lists[kind])
            break;
    }
    if (n == 0)
        snprintf(buf, sizeof lists[kind], "(none)");
    return buf;
}

int64_t clock_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
