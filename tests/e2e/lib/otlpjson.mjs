// otlpjson.mjs — OTLP/JSON (the spec's JSON mapping of the protos) to and from the decoded
// form the sinks record.
// The one idea: JSON is never compared as text. It goes through protobufjs and the official
// protos into protobuf bytes and is then decoded exactly like a protobuf body, so an item
// that came as JSON and one that came as protobuf are the same kind of object and the same
// comparison applies. Only the spec's deviations from the proto3 JSON mapping are handled
// by hand: trace and span IDs are hex (not base64), enums are integers. Anything else that
// does not fit the protos (a snake_case key, a bad ID) makes the conversion throw, so a
// sender that breaks the mapping is caught, not silently dropped. Both paths end in proto3
// canonical form (canonicalDecode), where an explicit default equals an absent field.
import protobuf from 'protobufjs';
import { PROTO_DIR, encodeRequest, decodeRequest } from './proto.mjs';
import path from 'node:path';

const REQUEST_TYPES = {
  traces: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
  metrics: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
  logs: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest',
};

const root = new protobuf.Root();
root.resolvePath = (_origin, target) => path.join(PROTO_DIR, target);
root.loadSync(
  [
    'opentelemetry/proto/collector/trace/v1/trace_service.proto',
    'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
    'opentelemetry/proto/collector/logs/v1/logs_service.proto',
    'google/rpc/status.proto',
  ],
  { keepCase: false },
);
root.resolveAll();

const ID_KEYS = new Set(['traceId', 'spanId', 'parentSpanId']);
const ID_LEN = { traceId: 16, spanId: 8, parentSpanId: 8 };

export function requestType(signal) {
  return root.lookupType(REQUEST_TYPES[signal]);
}

export const StatusType = root.lookupType('google.rpc.Status');

/**
 * Check that every key of the JSON object names a field of `type` (lowerCamelCase as the
 * spec writes it, or the proto's snake_case name when `allowSnake`), recursively. protobufjs
 * would otherwise ignore an unknown key and the test would see a missing field as "absent".
 */
function checkKeys(obj, type, where, allowSnake) {
  for (const [k, v] of Object.entries(obj)) {
    let field = type.fields[k];
    if (!field && allowSnake) field = Object.values(type.fields).find((f) => f.name === k || protobuf.util.camelCase(k) === f.name);
    if (!field) throw new Error(`OTLP/JSON: unknown field "${k}" in ${type.name} at ${where}`);
    if (v === null) continue;
    const rt = field.resolvedType;
    if (rt instanceof protobuf.Type) {
      const items = field.repeated ? v : [v];
      if (!Array.isArray(items)) throw new Error(`OTLP/JSON: ${where}.${k} must be an array`);
      items.forEach((item, i) => {
        if (typeof item !== 'object' || Array.isArray(item)) throw new Error(`OTLP/JSON: ${where}.${k}[${i}] must be an object`);
        checkKeys(item, rt, `${where}.${k}${field.repeated ? `[${i}]` : ''}`, allowSnake);
      });
    } else if (rt instanceof protobuf.Enum) {
      const items = field.repeated ? v : [v];
      for (const e of items) {
        if (typeof e !== 'number' || !Number.isInteger(e)) throw new Error(`OTLP/JSON: enum ${where}.${k} must be an integer, got ${JSON.stringify(e)}`);
      }
    }
  }
}

/** Deep copy with hex IDs replaced by Buffers (strictly: even-length hex of the right size, or ''). */
function idsToBytes(v, where = '$') {
  if (Array.isArray(v)) return v.map((x, i) => idsToBytes(x, `${where}[${i}]`));
  if (v && typeof v === 'object') {
    const out = {};
    for (const [k, x] of Object.entries(v)) {
      const camel = protobuf.util.camelCase(k);
      if (ID_KEYS.has(camel) && typeof x === 'string') {
        if (x !== '' && !(new RegExp(`^[0-9a-fA-F]{${ID_LEN[camel] * 2}}$`).test(x))) {
          throw new Error(`OTLP/JSON: ${where}.${k} is not ${ID_LEN[camel]} bytes of hex: ${JSON.stringify(x)}`);
        }
        out[k] = Buffer.from(x, 'hex');
      } else {
        out[k] = idsToBytes(x, `${where}.${k}`);
      }
    }
    return out;
  }
  return v;
}

/** Deep copy with every object key in lowerCamelCase (attribute keys are values, not keys). */
function camelKeys(v) {
  if (Array.isArray(v)) return v.map(camelKeys);
  if (v && typeof v === 'object') {
    const out = {};
    for (const [k, x] of Object.entries(v)) out[protobuf.util.camelCase(k)] = camelKeys(x);
    return out;
  }
  return v;
}

function isDefaultScalar(v) {
  if (v === 0 || v === false || v === '') return true;
  if (v instanceof Uint8Array) return v.length === 0;
  if (protobuf.util.Long && protobuf.util.Long.isLong(v)) return v.isZero();
  return false;
}

/**
 * Remove proto3 scalars that hold their default value and have no presence (not in a
 * oneof, not `optional`): a proto3 encoder never writes them, so a JSON sender that spells
 * out `"isMonotonic": false` and a protobuf sender that omits it mean the same message, and
 * must decode to the same object. protobufjs would otherwise encode them explicitly.
 */
function dropImplicitDefaults(msg, type) {
  for (const field of type.fieldsArray) {
    const v = msg[field.name];
    if (v === undefined || v === null) continue;
    if (field.resolvedType instanceof protobuf.Type) {
      for (const m of field.repeated ? v : [v]) dropImplicitDefaults(m, field.resolvedType);
    } else if (!field.repeated && !field.partOf && isDefaultScalar(v)) {
      delete msg[field.name];
    }
  }
}

/**
 * OTLP/JSON (text, Buffer or parsed object) of `signal` -> the decoded request object the
 * gRPC sink records (proto field names, Buffers for bytes, longs as strings). Throws on
 * anything outside the mapping. `allowSnake` also accepts snake_case keys (receivers must).
 */
export function jsonToDecoded(signal, json, { allowSnake = false } = {}) {
  const obj = typeof json === 'string' || Buffer.isBuffer(json) ? JSON.parse(json.toString('utf8')) : json;
  const type = requestType(signal);
  checkKeys(obj, type, '$', allowSnake);
  const msg = type.fromObject(idsToBytes(allowSnake ? camelKeys(obj) : obj));
  const err = type.verify(msg);
  if (err) throw new Error(`OTLP/JSON: ${err}`);
  dropImplicitDefaults(msg, type);
  return decodeRequest(signal, Buffer.from(type.encode(msg).finish()));
}

/**
 * Protobuf bytes of an Export request of `signal` -> the decoded object, in proto3
 * canonical form: scalars without presence that hold their default are absent, whether the
 * encoder wrote them or not (the SDK's serializer writes `dropped_attributes_count: 0`, a
 * proto3 encoder need not). Items decoded this way compare equal exactly when they mean
 * the same message, whatever encoder or encoding carried them.
 */
export function canonicalDecode(signal, bytes) {
  const type = requestType(signal);
  const msg = type.decode(bytes);
  dropImplicitDefaults(msg, type);
  return decodeRequest(signal, Buffer.from(type.encode(msg).finish()));
}

/** A decoded request object (proto field names) in the canonical form of canonicalDecode. */
export function canonical(signal, decoded) {
  return canonicalDecode(signal, encodeRequest(signal, decoded));
}

/** Bytes to hex, recursively under the ID keys; other bytes stay base64 (as the spec says). */
function idsToHex(v) {
  if (Array.isArray(v)) return v.map(idsToHex);
  if (v && typeof v === 'object') {
    const out = {};
    for (const [k, x] of Object.entries(v)) {
      out[k] = ID_KEYS.has(k) && typeof x === 'string' ? Buffer.from(x, 'base64').toString('hex') : idsToHex(x);
    }
    return out;
  }
  return v;
}

/**
 * A request object in proto field names (as requests.mjs builds them) -> its OTLP/JSON
 * object: lowerCamelCase keys, hex IDs, enums as integers, 64-bit integers as strings.
 */
export function toOtlpJson(signal, protoObj) {
  const bytes = encodeRequest(signal, protoObj);
  const type = requestType(signal);
  const plain = type.toObject(type.decode(bytes), { longs: String, enums: Number, bytes: String, defaults: false, arrays: false });
  return idsToHex(plain);
}

/** google.rpc.Status protobuf bytes -> {code, message, details}. Throws when not a Status. */
export function decodeStatus(buf) {
  return StatusType.toObject(StatusType.decode(buf), { defaults: true });
}

const RESPONSE_TYPES = {
  traces: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse',
  metrics: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse',
  logs: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse',
};

/** Export*ServiceResponse protobuf bytes -> plain object (camelCase; {} for a full success). */
export function decodeResponse(signal, buf) {
  const type = root.lookupType(RESPONSE_TYPES[signal]);
  return type.toObject(type.decode(buf), { longs: String, defaults: false });
}
