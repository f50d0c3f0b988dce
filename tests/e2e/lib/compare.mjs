// compare.mjs — what the sink received versus what the SDK produced, item by item.
// The one idea: the source of truth is the SDK's own in-memory copy of every span / log /
// metric, serialized with the SDK's own OTLP protobuf serializer and decoded with the same
// proto loader as the sink. Both sides are then the same kind of object, so each item can
// be deep-compared field by field (IDs, timestamps, attribute value types, events, links)
// after a normalization that only removes encodings with no meaning (absent vs empty).
import assert from 'node:assert/strict';
import {
  ProtobufTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
} from '@opentelemetry/otlp-transformer';
import { decodeRequest } from './proto.mjs';
import { hex } from './util.mjs';

/**
 * Canonical form for deep comparison: Buffers become hex strings; undefined/null, empty
 * arrays and empty messages are dropped (proto3 cannot tell them from absent). Scalars,
 * including zeros inside a oneof, are kept as they are.
 */
export function normalize(v) {
  if (v === undefined || v === null) return undefined;
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return hex(v);
  if (Array.isArray(v)) {
    const arr = v.map(normalize).filter((x) => x !== undefined);
    return arr.length ? arr : undefined;
  }
  if (typeof v === 'object') {
    const out = {};
    for (const k of Object.keys(v).sort()) {
      const n = normalize(v[k]);
      if (n !== undefined) out[k] = n;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return v;
}

/** Decoded KeyValue list -> {key: {type, value}} for readable attribute assertions. */
export function attrMap(kvs) {
  const out = {};
  for (const kv of kvs ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

/** Decoded AnyValue -> {type, value}; arrays and kvlists recursively. */
export function anyValue(av) {
  if (!av || !av.value) return { type: 'empty', value: undefined };
  const type = av.value;
  const raw = av[type];
  if (type === 'array_value') return { type, value: (raw.values ?? []).map(anyValue) };
  if (type === 'kvlist_value') return { type, value: attrMap(raw.values) };
  if (type === 'bytes_value') return { type, value: hex(raw) };
  return { type, value: raw };
}

/** A decoded Export request of `signal` as the flat item list the sink's accessors return. */
export function flatten(signal, req) {
  const out = [];
  if (signal === 'traces') {
    for (const rs of req.resource_spans ?? [])
      for (const ss of rs.scope_spans ?? [])
        for (const span of ss.spans ?? []) out.push({ resource: rs.resource, scope: ss.scope, span });
  } else if (signal === 'logs') {
    for (const rl of req.resource_logs ?? [])
      for (const sl of rl.scope_logs ?? [])
        for (const record of sl.log_records ?? []) out.push({ resource: rl.resource, scope: sl.scope, record });
  } else {
    for (const rm of req.resource_metrics ?? [])
      for (const sm of rm.scope_metrics ?? [])
        for (const metric of sm.metrics ?? []) {
          const type = metric.data;
          for (const point of metric[type]?.data_points ?? [])
            out.push({ resource: rm.resource, scope: sm.scope, metric, type, point });
        }
  }
  return out;
}

/** The SDK's spans (ReadableSpan[]) as the flattened decoded OTLP the sink should see. */
export function expectedSpans(readableSpans) {
  const bytes = ProtobufTraceSerializer.serializeRequest(readableSpans);
  return flatten('traces', decodeRequest('traces', Buffer.from(bytes)));
}

/** The SDK's log records (ReadableLogRecord[]) as flattened decoded OTLP. */
export function expectedLogRecords(records) {
  const bytes = ProtobufLogsSerializer.serializeRequest(records);
  return flatten('logs', decodeRequest('logs', Buffer.from(bytes)));
}

/** The SDK's collected ResourceMetrics[] as flattened decoded OTLP data points. */
export function expectedMetricPoints(resourceMetricsList) {
  const out = [];
  for (const rm of resourceMetricsList) {
    const bytes = ProtobufMetricsSerializer.serializeRequest(rm);
    out.push(...flatten('metrics', decodeRequest('metrics', Buffer.from(bytes))));
  }
  return out;
}

export const spanKey = (s) => `${hex(s.span.trace_id)}/${hex(s.span.span_id)}`;
export const logKey = (r) => {
  // Bodies are unique per record in the workloads; trace context and time pin it down further.
  return `${hex(r.record.trace_id)}/${hex(r.record.span_id)}/${r.record.time_unix_nano}/${JSON.stringify(normalize(r.record.body))}`;
};
export const pointKey = (p) =>
  `${p.metric.name}|${JSON.stringify(
    normalize([...(p.point.attributes ?? [])].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))),
  )}`;

/**
 * Assert `got` holds each item of `want` exactly once (by key) and nothing else, and that
 * each matches field by field. `strip(item)` returns the part to compare (after normalize).
 */
export function assertSameItems(what, got, want, keyOf, strip) {
  const wantByKey = new Map();
  for (const w of want) {
    const k = keyOf(w);
    assert.ok(!wantByKey.has(k), `${what}: the expected set itself has a duplicate key ${k}`);
    wantByKey.set(k, w);
  }
  const gotByKey = new Map();
  const dups = [];
  for (const g of got) {
    const k = keyOf(g);
    if (gotByKey.has(k)) dups.push(k);
    else gotByKey.set(k, g);
  }
  const missing = [...wantByKey.keys()].filter((k) => !gotByKey.has(k));
  const extra = [...gotByKey.keys()].filter((k) => !wantByKey.has(k));
  assert.deepEqual(
    { duplicates: dups.slice(0, 10), duplicateCount: dups.length },
    { duplicates: [], duplicateCount: 0 },
    `${what}: items delivered more than once`,
  );
  assert.deepEqual(
    { missing: missing.slice(0, 10), missingCount: missing.length, extra: extra.slice(0, 10), extraCount: extra.length },
    { missing: [], missingCount: 0, extra: [], extraCount: 0 },
    `${what}: received set differs from sent set (${got.length} received, ${want.length} sent)`,
  );
  for (const [k, w] of wantByKey) {
    const g = gotByKey.get(k);
    assert.deepStrictEqual(normalize(strip(g)), normalize(strip(w)), `${what} ${k} differs`);
  }
}

export function assertSpansMatch(got, want) {
  assertSameItems('span', got, want, spanKey, (s) => ({ resource: s.resource, scope: s.scope, span: s.span }));
}

export function assertLogsMatch(got, want) {
  assertSameItems('log record', got, want, logKey, (r) => ({ resource: r.resource, scope: r.scope, record: r.record }));
}

/**
 * Metric points are compared without their timestamps: the truth comes from a second
 * reader whose collection ran a moment apart. Timestamps are checked for sanity instead.
 */
export function assertMetricPointsMatch(got, want) {
  for (const p of got) {
    assert.ok(BigInt(p.point.time_unix_nano ?? 0) > 0n, `metric ${p.metric.name}: time_unix_nano missing`);
    if (p.type !== 'gauge') {
      assert.ok(
        BigInt(p.point.start_time_unix_nano ?? 0) > 0n &&
          BigInt(p.point.start_time_unix_nano) <= BigInt(p.point.time_unix_nano),
        `metric ${p.metric.name}: bad start_time_unix_nano ${p.point.start_time_unix_nano}`,
      );
    }
  }
  const strip = (p) => {
    const { time_unix_nano, start_time_unix_nano, ...point } = p.point;
    const { [p.type]: data, ...meta } = p.metric;
    const { data_points, ...dataMeta } = data;
    return { resource: p.resource, scope: p.scope, metric: meta, dataMeta, point };
  };
  assertSameItems('metric point', got, want, pointKey, strip);
}
