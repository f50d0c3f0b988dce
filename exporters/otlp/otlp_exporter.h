/* otlp_exporter.h — the `otlp` exporter: OTLP/gRPC out through gRPC core, with the Collector's
 * otlp exporter config keys (configgrpc client settings, timeout, retry_on_failure,
 * sending_queue). The exporter forwards each batch's encoded face as it is; the shared
 * exporter_helper does queueing, retry and accounting.
 *
 * Ownership: the config is bound and freed by the service (config_bind / config_free_bound);
 * an instance borrows it until destroy. Thread-safety: consume() from any thread. */
#ifndef LLMOTLP_OTLP_EXPORTER_H
#define LLMOTLP_OTLP_EXPORTER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/auth.h"
#include "core/component.h"
#include "core/config.h"
#include "core/exporter_helper.h"
#include "core/tls_config.h"

struct otlp_keepalive_config {
    int64_t time;                  /* ns between pings on an idle connection; 0 = gRPC default */
    int64_t timeout;               /* ns to wait for a ping ack */
    bool permit_without_stream;
};

struct otlp_exporter_config {
    char *endpoint;                /* host:port; http://, https:// and dns:/// prefixes allowed */
    struct tls_client_config tls;  /* gRPC core ignores versions, ciphers, curves, reloading */
    struct config_kv_list headers; /* sent as gRPC metadata on every call (keys lowercased) */
    char *compression;             /* "gzip" (default), "none" or "" */
    int64_t timeout;               /* ns per attempt; 0 = no per-attempt deadline */
    struct retry_config retry_on_failure;
    struct queue_config sending_queue;
    bool keepalive_present;
    struct otlp_keepalive_config keepalive;
    char *balancer_name;           /* round_robin (default) or pick_first */
    char *authority;               /* :authority override */
    bool wait_for_ready;           /* wait for a connection instead of failing fast */
    int64_t write_buffer_size;     /* bytes; 0 = gRPC default */
    int64_t read_buffer_size;      /* bytes; 0 = gRPC default */
    struct auth_config auth;       /* auth.authenticator; auth.client set by the service */
    bool has_auth;
    const struct cnode *middlewares; /* rejected when set */
};

extern const struct config_field otlp_exporter_fields[];
/* The same keys with `endpoint` optional and without effect: the template a routing exporter
 * binds (loadbalancing's protocol.otlp), whose backends get their endpoint from a resolver. */
extern const struct config_field otlp_exporter_template_fields[];
extern const struct component_factory otlp_exporter_factory;
/* The same exporter under the Collector's newer type name `otlp_grpc` (config, fields, behaviour
 * identical; only the name differs). */
extern const struct component_factory otlp_grpc_exporter_factory;

/* The gRPC target for an endpoint after removing the scheme prefixes the Collector accepts;
 * *tls_forced is set for https://. Returns a pointer into endpoint. */
const char *otlp_exporter_target(const char *endpoint, bool *tls_forced);

/* For a routing exporter that owns several otlp instances (loadbalancing): creates an instance
 * as otlp_exporter_factory.create does, except that its queue's consumers call
 * hook(hook_ctx, ...) for each attempt instead of sending; the hook decides, and delivers through
 * otlp_exporter_send(instance, ...) (or elsewhere). Start, shutdown, consume and destroy through
 * otlp_exporter_factory. cfg is borrowed until destroy. NULL with err on failure. */
void *otlp_exporter_create_hooked(const struct otlp_exporter_config *cfg,
                                  const struct component_env *env, export_send_fn hook,
                                  void *hook_ctx, struct error *err);
/* One delivery attempt through an instance (the hook's way out). Thread-safe. */
enum send_result otlp_exporter_send(void *instance, struct batch *b, int64_t *throttle_ns,
                                    struct error *err);

#endif
