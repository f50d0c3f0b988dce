/* telemetry_reader.h — a periodic reader of the service's own metrics
 * (service.telemetry.metrics.readers[].periodic, the OpenTelemetry configuration schema the
 * Collector reads): every `interval` ms the registry becomes one OTLP metrics request
 * (telemetry_otlp.h) sent to an OTLP endpoint over HTTP/protobuf or gRPC, and once more at stop,
 * as an SDK's periodic reader does at shutdown.
 *
 * Both schema spellings are read: `exporter: {otlp: {protocol: http/protobuf|grpc, endpoint,
 * headers: [{name, value}], headers_list, compression, timeout, insecure, certificate,
 * client_key, client_certificate}}` (v0.3) and `exporter: {otlp_http: {...}}` /
 * `{otlp_grpc: {...}}` with `tls: {ca_file, cert_file, key_file, insecure}` (v1). The sending is
 * done by the `otlphttp` or `otlp` exporter component, configured from those keys, with its
 * queue off and its retries bounded by the reader's `timeout`.
 *
 * Ownership and threads: a reader is loaded (config checked, errors with file:line) with the
 * service's config and owned by the service; start creates the exporter and a ticker thread;
 * stop exports once more, then stops both. Not thread-safe: the service's start and shutdown
 * call it in sequence. */
#ifndef LLMOTLP_TELEMETRY_READER_H
#define LLMOTLP_TELEMETRY_READER_H

#include <stdint.h>

#include "core/config.h"
#include "core/error.h"
#include "core/telemetry.h"
#include "core/telemetry_otlp.h"

struct telemetry_reader;

/* Reads one `periodic` node (the value under `periodic:`). `where` names it in messages and
 * logs ("service.telemetry.metrics.readers[0].periodic"). Keys accepted without effect are
 * reported to w. 0 with *out the reader; 0 with *out NULL when the exporter kind is not one we
 * send with (console, otlp_file), reported to w; -1 with err ("file:line:col: ...") when the
 * config cannot be honoured. */
int telemetry_reader_load(const struct cnode *periodic, const char *where,
                          const struct config_warn_sink *w, struct telemetry_reader **out,
                          struct error *err);
/* Where the reader sends, for logs: "http/protobuf http://host:4318/v1/metrics". */
const char *telemetry_reader_target(const struct telemetry_reader *r);
/* Creates the exporter and starts the period. t and res must outlive the reader. */
int telemetry_reader_start(struct telemetry_reader *r, struct telemetry *t,
                           const struct telemetry_resource *res, const char *version,
                           struct error *err);
/* Exports once more (bounded by the reader's timeout and deadline_ns, CLOCK_MONOTONIC), then
 * stops the period and the exporter. Safe on a reader never started. */
void telemetry_reader_stop(struct telemetry_reader *r, int64_t deadline_ns);
void telemetry_reader_free(struct telemetry_reader *r);

#endif
