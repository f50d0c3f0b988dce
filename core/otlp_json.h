/* otlp_json.h — OTLP/JSON: the JSON form of OTLP messages, both ways, shared by the HTTP receiver
 * and the otlphttp exporter.
 * One walk over the protobuf-c descriptors serves every message type: the proto3 JSON mapping
 * with the OTLP deviations (trace and span IDs as hex, enums as integers, 64-bit integers as
 * strings), so no per-message code exists and new OTLP fields need no change here.
 *
 * Decoding rules (lenient, as the Collector is):
 *  - keys: lowerCamelCase JSON names and the original snake_case names; unknown keys ignored;
 *    `null` for any field means the default (for repeated fields: empty);
 *  - bytes fields named trace_id, span_id, parent_span_id: case-insensitive hex of exactly 16 or
 *    8 bytes ("" = empty); other bytes: base64 (standard or URL alphabet, padding optional);
 *  - integers: JSON numbers or decimal strings, exact over the full 64-bit range (a JSON number
 *    beyond the 64-bit range is clamped by the JSON parser; as a string it is an error);
 *  - enums: integers or the enum value name ("SPAN_KIND_SERVER");
 *  - doubles: numbers, numeric strings, "NaN", "Infinity", "-Infinity";
 *  - oneofs (AnyValue's stringValue/intValue/…, Metric's sum/gauge/…, the synthetic `_sum`,
 *    `_min`, `_max` oneofs that stand for proto3 `optional`): the key sets the member and its
 *    case; if several members of one oneof appear, the last wins.
 *  - strings: invalid UTF-8 bytes become U+FFFD (a proto3 peer would refuse the whole request);
 *  - message nesting is limited to OTLP_MAX_DEPTH levels below the root, as otlp_scan() does for
 *    the wire form, so whatever decodes here also packs to bytes the scanner accepts; the JSON
 *    parser itself stops at 2 * (OTLP_MAX_DEPTH + 1) + 2 levels of arrays and objects, unknown
 *    fields included, so a nesting bomb costs no deep recursion.
 * The decoder keeps no unknown fields, and the encoder does not render the unknown fields that
 * protobuf-c keeps from the wire (JSON has no form for them).
 * Encoding emits only the strict form: lowerCamelCase keys in field-number order, IDs as
 * lowercase hex, 64-bit integers as strings, enums as integers, other bytes as padded base64,
 * NaN/±Infinity as strings, proto3 defaults omitted (zero numbers, false, "", empty bytes and
 * repeated fields, unset messages) except members of oneofs, which appear whenever their case is
 * set. Invalid UTF-8 in strings (protobuf-c does not check it) becomes U+FFFD.
 *
 * Thread-safety: every function is reentrant; the per-message-type key tables are built once,
 * on first use, under pthread_once.
 * Errors: functions return NULL or -1 and fill err with a message that starts with the JSON
 * path of the offending value, e.g.
 *   "resourceSpans[0].scopeSpans[0].spans[3].traceId: expected 32 hex characters, got 30". */
#ifndef LLMOTLP_OTLP_JSON_H
#define LLMOTLP_OTLP_JSON_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/otlp.h"

/* Parses `len` bytes of JSON (need not be NUL-terminated) into a message of type d. Everything
 * the message points to lives in `arena` (caller owned; free the message by freeing or resetting
 * the arena, never with protobuf_c_message_free_unpacked). The input can be freed right after.
 * Returns NULL on malformed JSON, a value of the wrong JSON type, a bad ID or base64, an integer
 * out of range, nesting past OTLP_MAX_DEPTH, or out of memory. */
ProtobufCMessage *otlp_json_decode(const ProtobufCMessageDescriptor *d, const char *json,
                                   size_t len, struct arena *arena, struct error *err);

/* Renders m as compact JSON. Returns a malloc'd NUL-terminated string (caller frees) and its
 * length without the NUL in *len (len may be NULL); NULL on out of memory or nesting past
 * OTLP_MAX_DEPTH. */
char *otlp_json_encode(const ProtobufCMessage *m, size_t *len, struct error *err);

/* Decodes an Export<Signal>ServiceRequest from JSON and packs it to protobuf wire bytes, which
 * is what the rest of the pipeline carries. *out is malloc'd (caller frees; never NULL on
 * success, even for an empty request). Returns 0, or -1 with err set. */
int otlp_json_to_wire(enum signal s, const char *json, size_t len, uint8_t **out,
                      size_t *out_len, struct error *err);

/* The other way, for the exporter: validates the wire bytes with otlp_scan() (so hostile nesting
 * never reaches protobuf-c's recursive unpack), unpacks an Export<Signal>ServiceRequest and
 * renders it as JSON. Returns a malloc'd string (caller frees) with its length in *out_len
 * (may be NULL), or NULL with err set. */
char *otlp_json_from_wire(enum signal s, const uint8_t *data, size_t len, size_t *out_len,
                          struct error *err);

#endif
