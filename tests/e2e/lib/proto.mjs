// proto.mjs — the official OTLP collector protos (repo/proto), loaded once with
// @grpc/proto-loader, shared by the sink (server) and the raw test client.
// The one idea: load with keepCase/longs:String/bytes:Buffer/oneofs so decoded messages
// show exactly what was on the wire (field names as in the .proto, 64-bit ints exact,
// IDs as raw bytes, and `value` naming which AnyValue oneof member was set).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protoLoader from '@grpc/proto-loader';
import grpc from '@grpc/grpc-js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '..', '..', '..');
export const PROTO_DIR = path.join(REPO_ROOT, 'proto');

export const SERVICES = {
  traces: 'opentelemetry.proto.collector.trace.v1.TraceService',
  metrics: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
  logs: 'opentelemetry.proto.collector.logs.v1.LogsService',
};

export const LOAD_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: Number,
  bytes: Buffer,
  defaults: false,
  arrays: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

const packageDefinition = protoLoader.loadSync(
  [
    'opentelemetry/proto/collector/trace/v1/trace_service.proto',
    'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
    'opentelemetry/proto/collector/logs/v1/logs_service.proto',
  ],
  LOAD_OPTIONS,
);

export const grpcObject = grpc.loadPackageDefinition(packageDefinition);

/** The proto-loader service definition (method table) of a signal's service. */
export function serviceDefinition(signal) {
  const def = packageDefinition[SERVICES[signal]];
  if (!def) throw new Error(`no service definition for ${signal}`);
  return def;
}

/** Full gRPC method path of a signal's Export. */
export function exportPath(signal) {
  return `/${SERVICES[signal]}/Export`;
}

/** Encode an Export*ServiceRequest object (proto field names, Buffers for bytes). */
export function encodeRequest(signal, obj) {
  return serviceDefinition(signal).Export.requestSerialize(obj);
}

/** Decode Export*ServiceRequest bytes into the same object form the sink records. */
export function decodeRequest(signal, buf) {
  return serviceDefinition(signal).Export.requestDeserialize(buf);
}
