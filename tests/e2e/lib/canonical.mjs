// canonical.mjs — what a downstream should receive, in the proto3 canonical form the HTTP
// sink records (lib/otlpjson.mjs canonicalDecode).
// The one idea: the truth is still the SDK's in-memory copy serialized by the SDK itself
// (as in compare.mjs), only decoded canonically, so that a default the SDK spelled out and
// a default another encoder left out compare equal, and nothing else does.
import {
  ProtobufTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
} from '@opentelemetry/otlp-transformer';
import { canonical, canonicalDecode } from './otlpjson.mjs';
import { flatten } from './compare.mjs';

/** SDK spans (ReadableSpan[]) -> flattened canonical items. */
export function canonicalSpans(readableSpans) {
  return flatten('traces', canonicalDecode('traces', Buffer.from(ProtobufTraceSerializer.serializeRequest(readableSpans))));
}

/** SDK log records -> flattened canonical items. */
export function canonicalLogRecords(records) {
  return flatten('logs', canonicalDecode('logs', Buffer.from(ProtobufLogsSerializer.serializeRequest(records))));
}

/** SDK ResourceMetrics[] -> flattened canonical data points. */
export function canonicalMetricPoints(resourceMetricsList) {
  return resourceMetricsList.flatMap((rm) =>
    flatten('metrics', canonicalDecode('metrics', Buffer.from(ProtobufMetricsSerializer.serializeRequest(rm)))),
  );
}

/** A decoded request (e.g. from requests.mjs, or what the gRPC sink recorded) -> canonical items. */
export function canonicalItems(signal, decoded) {
  return flatten(signal, canonical(signal, decoded));
}
