/* otlp.h — the three OTLP signals and what the pipeline needs to know about their wire form.
 * otlp_scan() walks an Export*ServiceRequest in wire format, guided by the protobuf-c descriptors,
 * without allocating: it checks that the bytes would unpack (wire types, lengths, nesting depth),
 * that trace and span IDs have their spec lengths, and counts items (spans, data points, log
 * records). That is what lets an untouched batch be forwarded without decode and re-encode.
 * All functions are pure and thread-safe. */
#ifndef LLMOTLP_OTLP_H
#define LLMOTLP_OTLP_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

enum signal { SIGNAL_TRACES = 0, SIGNAL_METRICS = 1, SIGNAL_LOGS = 2, SIGNAL_COUNT = 3 };

/* "traces", "metrics", "logs". */
const char *signal_name(enum signal s);
/* Parses a pipeline signal name; -1 if unknown. */
int signal_parse(const char *name);
/* Item noun for messages: "spans", "metric points", "log records". */
const char *signal_item_name(enum signal s);

/* Export<Signal>ServiceRequest / Response descriptors. */
const ProtobufCMessageDescriptor *otlp_request_descriptor(enum signal s);
const ProtobufCMessageDescriptor *otlp_response_descriptor(enum signal s);
/* gRPC method path, e.g. "/opentelemetry.proto.collector.trace.v1.TraceService/Export". */
const char *otlp_grpc_method(enum signal s);

/* Deepest message nesting accepted; protobuf-c's recursive unpack would overflow the stack on
 * hostile nesting (AnyValue→ArrayValue→AnyValue…), so scan rejects deeper input first. */
#define OTLP_MAX_DEPTH 64

struct otlp_scan_result {
    uint64_t items;          /* spans, metric data points or log records, as unpack will hold */
    uint64_t resources;      /* top-level Resource* entries */
    uint64_t bad_strings;    /* string fields that are not UTF-8 or hold a NUL: to repair */
    char bad_string_where[160]; /* the first of them, e.g. "Span #3: field 'name' of Span" */
};

/* Validates and counts. Accepts exactly what protobuf-c unpacks (stricter where protobuf-c
 * departs from protobuf: keys and length prefixes of at most 5 bytes, a singular message field at
 * most once per message), and counts the items unpack will hold (the last member of a oneof
 * wins). Returns 0, or -1 with err describing the first problem found
 * (e.g. "Span #3: trace_id is 15 bytes, expected 16"). A request with bad_strings > 0 is valid
 * but must go through otlp_repair_strings() before it is forwarded or decoded. */
int otlp_scan(enum signal s, const uint8_t *data, size_t len, struct otlp_scan_result *out,
              struct error *err);

/* Rewrites a scanned request with every string field that is not UTF-8, or holds a NUL, repaired:
 * each byte that starts no valid UTF-8 sequence, and each NUL, becomes U+FFFD (as the OTLP/JSON
 * decoder does); enclosing length prefixes are rewritten. *out is malloc'd (caller frees);
 * *fixed counts the strings changed. 0, or -1 with err (malformed input, out of memory). */
int otlp_repair_strings(enum signal s, const uint8_t *data, size_t len, uint8_t **out,
                        size_t *out_len, uint64_t *fixed, struct error *err);

/* Length (1..4) of the valid UTF-8 sequence that starts s (n > 0 bytes available), or 0 when
 * the bytes there are not one (overlong forms, surrogates, past U+10FFFF) or s[0] is NUL. */
size_t otlp_utf8_seq(const uint8_t *s, size_t n);
/* Length of the longest prefix of s that is valid UTF-8 without NUL (n when all of it is). */
size_t otlp_string_valid_prefix(const uint8_t *s, size_t n);

/* Reads the partial_success of a decoded Export<Signal>ServiceResponse: rejected items and the
 * message (NULL when absent). Returns true when the response carries one. */
bool otlp_partial_success(enum signal s, const ProtobufCMessage *resp, int64_t *rejected,
                          const char **message);

/* Data points of a decoded metric, whatever its type (0 for none or an unknown type). */
struct Opentelemetry__Proto__Metrics__V1__Metric;
size_t otlp_metric_points(const struct Opentelemetry__Proto__Metrics__V1__Metric *m);

/* Counts items of a decoded request (same numbers as otlp_scan). */
uint64_t otlp_count_items(enum signal s, const ProtobufCMessage *req);

#endif
