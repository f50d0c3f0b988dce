/* telemetry_server.h — the service's own metrics over HTTP: GET /metrics answers the Prometheus
 * text exposition (format 0.0.4) of a telemetry registry plus process metrics computed at
 * scrape time (otelcol_process_uptime, otelcol_process_cpu_seconds, otelcol_process_memory_rss).
 * Configured by service.telemetry.metrics (address, or a pull/prometheus reader).
 * Thread-safety: start and stop from one thread; scrapes run on the server's own thread. */
#ifndef LLMOTLP_TELEMETRY_SERVER_H
#define LLMOTLP_TELEMETRY_SERVER_H

#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "core/telemetry.h"

struct telemetry_server;

/* Serves t (borrowed; must outlive the server) on endpoint "host:port". Uptime counts from
 * this call. NULL with err ("cannot listen on 0.0.0.0:8888: address in use", ...). */
struct telemetry_server *telemetry_server_start(const char *endpoint, struct telemetry *t,
                                                struct error *err);
/* The bound port (the kernel's choice when the endpoint asked for port 0). */
uint16_t telemetry_server_port(const struct telemetry_server *s);
/* Stops serving and frees. NULL is a no-op. */
void telemetry_server_stop(struct telemetry_server *s);

/* Writes the process metric families, uptime counted from start_ns (CLOCK_MONOTONIC). */
void telemetry_write_process(FILE *out, int64_t start_ns);
/* The same process figures, read now: CPU seconds (user + system) and resident bytes. */
void telemetry_process_read(double *cpu_seconds, double *rss_bytes);

#endif
