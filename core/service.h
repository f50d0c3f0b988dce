/* service.h — a running llmotlp: config loaded and checked, the pipeline graph built from
 * `service.pipelines`, components created, started and shut down in the right order.
 *
 * Graph (as the Collector's): each pipeline `signal[/name]` has receivers (fan-in), processors in
 * order (one instance per pipeline), exporters (fan-out). Receivers, exporters and extensions
 * have one instance per ID shared by every pipeline that names them; a connector is an exporter
 * of one pipeline and a receiver of another. Build goes downstream-first so every component is
 * created with its `next` consumers in hand; start goes exporters → processors → receivers;
 * shutdown the reverse, each step bounded by the deadline.
 * One service per process is typical; nothing here is global except the factory registry. */
#ifndef LLMOTLP_SERVICE_H
#define LLMOTLP_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/error.h"
#include "core/telemetry.h"

struct service;

/* Resolves and merges the --config sources (config_source.h: file paths, file:, env:, yaml:),
 * applies --set overrides, binds every component's config and checks the graph. Warnings
 * (defined but unused components, unset env vars, keys without effect) are logged and kept for
 * service_warning(). NULL with err (first error, with source:line:col) when the config is
 * invalid. */
struct service *service_load(const char *const *config_uris, size_t n_uris,
                             const char *const *sets, size_t n_sets, struct error *err);
/* Same, from YAML text (tests). */
struct service *service_load_string(const char *yaml, struct error *err);

/* Creates and starts every component. 0 or -1 with err (then call service_free). */
int service_start(struct service *s, struct error *err);
/* Graceful stop: receivers stop accepting, processors flush, exporters drain until deadline_ns. */
void service_shutdown(struct service *s, int64_t deadline_ns);
void service_free(struct service *s);

struct telemetry *service_telemetry(struct service *s);
/* Shutdown deadline from config (service.telemetry is not the place; we use the top-level
 * default of 10 s unless LLMOTLP_SHUTDOWN_TIMEOUT says otherwise). */
int64_t service_shutdown_timeout_ns(const struct service *s);

/* Own metrics (service.telemetry.metrics): the endpoint from config ("host:port", NULL when
 * level is none or no prometheus reader is configured), and the port bound once started (0 when
 * not serving; the kernel's choice when the endpoint said port 0). */
const char *service_metrics_endpoint(const struct service *s);
uint16_t service_metrics_port(const struct service *s);

/* Test hook: the instance of extension `id` created by the factory (the `self` its functions
 * take); NULL before service_start or if the extension is not enabled. */
void *service_extension(struct service *s, const char *id);

/* Introspection for tests and `validate`: pipelines and the components they use. */
size_t service_pipeline_count(const struct service *s);
/* Writes a description of pipeline i: "traces/x: [otlp] -> [batch] -> [debug, otlp/2]". */
const char *service_pipeline_describe(const struct service *s, size_t i, char *buf, size_t len);
/* The same, item by item (the zpages extension's pages). These read what the config built, which
 * does not change from load to service_free, so any thread may call them while the service
 * lives. Each returns NULL past the end. */
enum service_role { SERVICE_ROLE_RECEIVERS, SERVICE_ROLE_PROCESSORS, SERVICE_ROLE_EXPORTERS };
const char *service_pipeline_id(const struct service *s, size_t i);     /* "traces/x" */
/* The j-th component ID of `role` in pipeline i, in config order. */
const char *service_pipeline_member(const struct service *s, size_t i, enum service_role role,
                                    size_t j);
/* Extensions enabled in service.extensions, in that order. */
size_t service_extension_count(const struct service *s);
const char *service_extension_id(const struct service *s, size_t i);
/* The value of an attribute of the resource of own telemetry (service.telemetry.resource and
 * the defaults service.name, service.version, service.instance.id); NULL when absent. Valid until
 * service_free. */
const char *service_resource_attribute(const struct service *s, const char *key);
/* Number of warnings produced while loading (unused components, ...). */
size_t service_warning_count(const struct service *s);
const char *service_warning(const struct service *s, size_t i);

/* Test hook: the consumer at the head of pipeline `pipeline_id` ("traces/x"), as receivers see
 * it; NULL before service_start or if no such pipeline. Valid until service_free. Pushing a batch
 * here runs the pipeline synchronously on the caller's thread, as a receiver would. */
struct consumer;
struct consumer *service_pipeline_entry(struct service *s, const char *pipeline_id);

#endif
