// tailsampling.mjs — instruments for the tail_sampling end-to-end tests: the processor's YAML,
// hand-built traces and log records sent one span (or one record) per request, the sink's
// arrivals grouped by trace, and the Collector's probabilistic hash recomputed in the test.
// The one idea: the test builds every span itself and keeps the decoded form of exactly the
// bytes it sent, with the time it sent them; what the sink received is then compared with that
// truth span by span (IDs, content, attributes, nothing missing, nothing twice), and the
// attributes a test asked the processor to add (sampling.policy and sampling.adjusted_count with
// decision_attributes, propagated attributes) are checked on their own and stripped before the
// comparison; by default nothing is added, as in the Collector.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeRequest, decodeRequest, exportPath } from './proto.mjs';
import { Llmotlp, binaryPath } from './llmotlp.mjs';
import { freePort, waitForPort } from './ports.mjs';
import { rawClient, rawCall, status } from './rawclient.mjs';
import { normalize, attrMap } from './compare.mjs';
import { scrape, sumOf } from './prometheus.mjs';
import { hex, scaled } from './util.mjs';

export const TS_PREFIX = 'otelcol_processor_tail_sampling_';

/**
 * The `processors:` block (indented for makeConfig's processorsYaml) of one tail_sampling
 * processor. `policies` are plain objects, written one per line as YAML flow maps (JSON is
 * YAML), so a failing test's config stays readable.
 */
export function tailSamplingYaml({
  id = 'tail_sampling',
  decisionWait,
  afterRoot,
  numTraces,
  maxBufferedBytes,
  sampledCache,
  nonSampledCache,
  propagate,
  policies,
  extra = {},
}) {
  const lines = [`  ${id}:`];
  if (decisionWait !== undefined) lines.push(`    decision_wait: ${decisionWait}`);
  if (afterRoot !== undefined) lines.push(`    decision_wait_after_root_received: ${afterRoot}`);
  if (numTraces !== undefined) lines.push(`    num_traces: ${numTraces}`);
  if (maxBufferedBytes !== undefined) lines.push(`    max_buffered_bytes: ${maxBufferedBytes}`);
  if (sampledCache !== undefined || nonSampledCache !== undefined) {
    lines.push('    decision_cache:');
    if (sampledCache !== undefined) lines.push(`      sampled_cache_size: ${sampledCache}`);
    if (nonSampledCache !== undefined) lines.push(`      non_sampled_cache_size: ${nonSampledCache}`);
  }
  if (propagate) lines.push(`    propagate_attributes: ${JSON.stringify(propagate)}`);
  for (const [k, v] of Object.entries(extra)) lines.push(`    ${k}: ${JSON.stringify(v)}`);
  lines.push('    policies:');
  for (const p of policies) lines.push(`      - ${JSON.stringify(p)}`);
  return lines.join('\n') + '\n';
}

/** makeConfig options for traces (and logs, when `logs`) through tail_sampling only. */
export function tsConfig(tsOpts, { logs = false, ...rest } = {}) {
  const id = tsOpts.id ?? 'tail_sampling';
  return {
    processorsYaml: tailSamplingYaml(tsOpts),
    pipelineProcessors: { traces: [id], metrics: [], logs: logs ? [id] : [] },
    ...rest,
  };
}

// ---- values --------------------------------------------------------------------------------

/** A JS value as an OTLP AnyValue: string, boolean, bigint (int), integer or other number. */
export function anyValue(v) {
  if (typeof v === 'string') return { string_value: v };
  if (typeof v === 'boolean') return { bool_value: v };
  if (typeof v === 'bigint') return { int_value: String(v) };
  if (Number.isInteger(v)) return { int_value: String(v) };
  return { double_value: v };
}

/** {key: value} -> KeyValue list. */
export function kvs(obj) {
  return Object.entries(obj).map(([key, value]) => ({ key, value: anyValue(value) }));
}

export const RESOURCE = { 'service.name': 'llm-gateway', 'deployment.environment': 'e2e' };
export const SCOPE = { name: 'e2e.tail_sampling', version: '1' };

// ---- traces --------------------------------------------------------------------------------

/** A random trace ID (16 bytes) for which `accept(id)` holds. */
export function traceIdWhere(accept = () => true) {
  for (let i = 0; i < 100000; i++) {
    const id = crypto.randomBytes(16);
    if (accept(id)) return id;
  }
  throw new Error('no trace ID found that satisfies the condition');
}

/**
 * Spans of one trace as plain objects (proto field names): span 0 is the root (no parent),
 * the others its children. Options: `errorAt` (index of the one span with status ERROR),
 * `attrsAt` ({index: {key: value}}), `noRoot` (every span has a parent that is never sent),
 * `durationMs` (the trace's length: from the root's start to the last child's end).
 */
export function makeTrace({ traceId = crypto.randomBytes(16), n = 3, tag = 'ts', errorAt = -1, attrsAt = {}, noRoot = false, durationMs = 20 } = {}) {
  const rootId = crypto.randomBytes(8);
  const t0 = BigInt(Date.now()) * 1000000n;
  const spans = [];
  for (let i = 0; i < n; i++) {
    const root = i === 0 && !noRoot;
    const start = t0 + BigInt(i) * 1000n;
    const end = i === n - 1 ? t0 + BigInt(durationMs) * 1000000n : start + 500000n;
    spans.push({
      trace_id: traceId,
      span_id: root ? rootId : crypto.randomBytes(8),
      parent_span_id: root ? Buffer.alloc(0) : rootId,
      name: root ? `POST /v1/chat/completions ${tag}` : `chat gpt-4o-mini ${tag} ${i}`,
      kind: root ? 2 : 3,
      start_time_unix_nano: String(start),
      end_time_unix_nano: String(end),
      attributes: kvs({ 'e2e.tag': tag, 'e2e.index': i, 'gen_ai.request.model': 'gpt-4o-mini', ...(attrsAt[i] ?? {}) }),
      status: i === errorAt ? { code: 2, message: 'upstream 500' } : { code: 0 },
    });
  }
  return { traceId, hex: traceId.toString('hex'), spans };
}

/** Encoded ExportTraceServiceRequest of `spans` under one resource and scope. */
export function spansRequest(spans, { resource = RESOURCE } = {}) {
  return encodeRequest('traces', {
    resource_spans: [{ resource: { attributes: kvs(resource) }, scope_spans: [{ scope: SCOPE, spans }] }],
  });
}

/** A log record (proto field names); `trace`/`spanIndex` give it that span's context. */
export function makeLog({ trace, spanIndex = 0, body = 'log', attrs = {} } = {}) {
  const now = BigInt(Date.now()) * 1000000n;
  const rec = {
    time_unix_nano: String(now),
    observed_time_unix_nano: String(now + 1000n),
    severity_number: 9,
    severity_text: 'INFO',
    body: { string_value: body },
    attributes: kvs({ 'e2e.body': body, ...attrs }),
  };
  if (trace) {
    rec.trace_id = trace.traceId;
    rec.span_id = trace.spans[spanIndex].span_id;
    rec.flags = 1;
  }
  return rec;
}

export function logsRequest(records, { resource = RESOURCE } = {}) {
  return encodeRequest('logs', {
    resource_logs: [{ resource: { attributes: kvs(resource) }, scope_logs: [{ scope: SCOPE, log_records: records }] }],
  });
}

/**
 * Sends hand-built items to llmotlp and remembers each one as decoded from the exact bytes
 * sent, with the time it was sent; every call must be answered OK.
 */
export class Sender {
  constructor(endpoint) {
    this.client = rawClient(endpoint);
    /** span key -> {item: {resource, scope, span}, sentAt} */
    this.spans = new Map();
    /** log body -> {item: {resource, scope, record}, sentAt} */
    this.logs = new Map();
  }

  async _call(signal, bytes) {
    const res = await rawCall(this.client, exportPath(signal), bytes);
    assert.equal(res.code, status.OK, `${signal} export refused: ${res.code} ${res.details}`);
  }

  /** One request carrying `spans`. */
  async sendSpans(spans, opts = {}) {
    const bytes = spansRequest(spans, opts);
    const sentAt = Date.now();
    for (const rs of decodeRequest('traces', bytes).resource_spans)
      for (const ss of rs.scope_spans)
        for (const span of ss.spans) this.spans.set(keyOf(span), { item: { resource: rs.resource, scope: ss.scope, span }, sentAt });
    await this._call('traces', bytes);
  }

  /** Each span of `spans` in a request of its own, in order. */
  async sendEach(spans, opts = {}) {
    for (const s of spans) await this.sendSpans([s], opts);
  }

  async sendLogs(records, opts = {}) {
    const bytes = logsRequest(records, opts);
    const sentAt = Date.now();
    for (const rl of decodeRequest('logs', bytes).resource_logs)
      for (const sl of rl.scope_logs)
        for (const record of sl.log_records) this.logs.set(record.body.string_value, { item: { resource: rl.resource, scope: sl.scope, record }, sentAt });
    await this._call('logs', bytes);
  }

  /** Latest send time of any span of the trace. */
  lastSent(traceHex) {
    let t = 0;
    for (const [k, v] of this.spans) if (k.startsWith(traceHex)) t = Math.max(t, v.sentAt);
    return t;
  }

  firstSent(traceHex) {
    let t = Infinity;
    for (const [k, v] of this.spans) if (k.startsWith(traceHex)) t = Math.min(t, v.sentAt);
    return t;
  }

  close() {
    this.client.close();
  }
}

/** Runs `fn` over `items` with at most `n` at once. */
export async function pool(items, n, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

export const keyOf = (span) => `${hex(span.trace_id)}/${hex(span.span_id)}`;

// ---- what arrived ----------------------------------------------------------------------------

/** Accepted spans at the sink with the time each call arrived: [{resource, scope, span, at}]. */
export function arrivedSpans(sink) {
  const out = [];
  for (const c of sink.accepted('traces'))
    for (const rs of c.request.resource_spans ?? [])
      for (const ss of rs.scope_spans ?? [])
        for (const span of ss.spans ?? []) out.push({ resource: rs.resource, scope: ss.scope, span, at: c.at });
  return out;
}

export function arrivedLogs(sink) {
  const out = [];
  for (const c of sink.accepted('logs'))
    for (const rl of c.request.resource_logs ?? [])
      for (const sl of rl.scope_logs ?? [])
        for (const record of sl.log_records ?? []) out.push({ resource: rl.resource, scope: sl.scope, record, at: c.at });
  return out;
}

/** Arrived spans grouped by trace ID (hex). */
export function byTrace(arrived) {
  const m = new Map();
  for (const a of arrived) {
    const k = hex(a.span.trace_id);
    if (!m.has(k)) m.set(k, []);
    m.get(k).push(a);
  }
  return m;
}

/** Attribute values of a decoded item, {key: {type, value}}; throws when a key appears twice. */
export function attrsOnce(kvList, what) {
  const seen = new Set();
  for (const kv of kvList ?? []) {
    assert.ok(!seen.has(kv.key), `${what}: attribute ${kv.key} appears twice`);
    seen.add(kv.key);
  }
  return attrMap(kvList);
}

/**
 * A copy of an arrived item without the attributes named in `added` that the sent item did
 * not have (those the processor may add); an attribute that was sent must arrive as sent.
 */
function stripped(item, field, added, sent, scopeAdded = []) {
  const had = new Set((sent[field].attributes ?? []).map((kv) => kv.key));
  const drop = added.filter((k) => !had.has(k));
  const inner = { ...item[field], attributes: (item[field].attributes ?? []).filter((kv) => !drop.includes(kv.key)) };
  const scopeHad = new Set((sent.scope?.attributes ?? []).map((kv) => kv.key));
  const scopeDrop = scopeAdded.filter((k) => !scopeHad.has(k));
  const scope = item.scope && { ...item.scope, attributes: (item.scope.attributes ?? []).filter((kv) => !scopeDrop.includes(kv.key)) };
  return normalize({ resource: item.resource, scope, [field]: inner });
}

/** proto3 view: fields holding their default value (and messages left empty) are dropped, so a
 * span re-encoded by a processor that edited it compares equal to what was sent. Applied to both
 * sides, it only forgives the difference between "absent" and "present with the default". */
function dropDefaults(v) {
  if (Array.isArray(v)) return v.map(dropDefaults);
  if (v && typeof v === 'object' && !Buffer.isBuffer(v)) {
    const out = {};
    for (const [k, x] of Object.entries(v)) {
      const d = dropDefaults(x);
      const empty = d === '' || d === 0 || d === '0' || d === false || d === null || d === undefined ||
        (Array.isArray(d) && d.length === 0) ||
        (d && typeof d === 'object' && !Array.isArray(d) && !Buffer.isBuffer(d) && Object.keys(d).length === 0);
      if (!empty) out[k] = d;
    }
    return out;
  }
  return v;
}

/**
 * The spans of `traceHexes` that arrived are exactly the ones sent (each once, intact apart
 * from the span attributes in `added` and the scope attributes in `scopeAdded`). Returns the
 * arrived items.
 */
export function assertTracesWhole(sender, arrived, traceHexes, { added = [], scopeAdded = [], proto3 = false } = {}) {
  const want = new Set(traceHexes);
  const got = arrived.filter((a) => want.has(hex(a.span.trace_id)));
  const seen = new Set();
  for (const a of got) {
    const k = keyOf(a.span);
    assert.ok(!seen.has(k), `span ${k} arrived twice`);
    seen.add(k);
    const sent = sender.spans.get(k);
    assert.ok(sent, `span ${k} arrived but was never sent`);
    const view = proto3 ? dropDefaults : (x) => x;
    assert.deepEqual(view(stripped(a, 'span', added, sent.item, scopeAdded)), view(normalize(sent.item)), `span ${k} arrived changed`);
  }
  for (const [k] of sender.spans) {
    if (want.has(k.slice(0, 32))) assert.ok(seen.has(k), `span ${k} of a kept trace is missing`);
  }
  return got;
}

/** Whether the log records sent with these bodies arrived once and intact (apart from `added`). */
export function assertLogsArrived(sender, arrived, bodies, { added = [] } = {}) {
  const got = [];
  for (const body of bodies) {
    const hits = arrived.filter((a) => a.record.body?.string_value === body);
    assert.equal(hits.length, 1, `log record '${body}' arrived ${hits.length} times`);
    const sent = sender.logs.get(body).item;
    assert.deepEqual(stripped(hits[0], 'record', added, sent), normalize(sent), `log record '${body}' arrived changed`);
    got.push(hits[0]);
  }
  return got;
}

// ---- llmotlp's own metrics -------------------------------------------------------------------

/** Sum of one of llmotlp's metrics over the series matching `labels`; a bare name gets the
 * tail_sampling prefix (otelcol_processor_tail_sampling_). */
export async function tsMetric(llm, name, labels = {}) {
  const { samples } = await scrape(llm.metricsUrl);
  const full = name.startsWith('otelcol_') || name.startsWith('llmotlp_') ? name : TS_PREFIX + name;
  return sumOf(samples, full, labels);
}

/** Poll a metric until `accept(value)` or the bound; returns the last value. */
export async function waitMetric(llm, name, labels, accept, timeoutMs = scaled(10000)) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await tsMetric(llm, name, labels);
    if (accept(v) || Date.now() >= end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---- the Collector's probabilistic sampler, recomputed -----------------------------------------

const FNV_OFFSET = 14695981039346656037n;
const FNV_PRIME = 1099511628211n;
const U64 = (1n << 64n) - 1n;

/** FNV-1a 64 of the salt's bytes then the trace ID's, as the Collector's hashTraceID. */
export function collectorHash(salt, traceId) {
  let h = FNV_OFFSET;
  for (const b of Buffer.concat([Buffer.from(salt, 'utf8'), traceId])) {
    h ^= BigInt(b);
    h = (h * FNV_PRIME) & U64;
  }
  return h;
}

/** floor(MaxUint64 * pct/100), the Collector's calculateThreshold (pct/100 as a float64). */
export function collectorThreshold(pct) {
  const ratio = pct / 100;
  const scaled64 = BigInt(ratio * 2 ** 64); // exact: a power-of-two scaling of a float64
  return (scaled64 * U64) >> 64n;
}

/** Whether the Collector's probabilistic policy keeps this trace ID. */
export function collectorKeeps(traceId, pct, salt = 'default-hash-seed') {
  return collectorHash(salt, traceId) <= collectorThreshold(pct);
}

// ---- llmotlp on a config file of the repository ------------------------------------------------

/**
 * Start llmotlp on an existing config file (the repository's config.yaml) with `env` added to
 * the environment; resolves once `port` (the gRPC receiver the env points at) accepts
 * connections. `metricsPort` names the /metrics port the env sets, for the handle's metricsUrl.
 */
export async function startWithConfigFile(configPath, { port, metricsPort, env = {}, args = [] }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmotlp-e2e-'));
  const logPath = path.join(dir, 'llmotlp.log');
  const logFd = fs.openSync(logPath, 'a');
  // Run in the temp dir: relative paths of the config (the pricing DB) land there, not in the repo.
  const proc = spawn(binaryPath(), ['--config', configPath, ...args], {
    cwd: dir,
    stdio: ['ignore', logFd, logFd],
    env: { ...process.env, ...env },
  });
  fs.closeSync(logFd);
  const handle = new Llmotlp(proc, { port, metricsPort, dir, logPath, configPath });
  if (!(await waitForPort(port, scaled(15000), () => handle.exit !== null))) {
    handle.dumpLog('did not start');
    await handle.kill();
    throw new Error(`llmotlp did not start on ${configPath}: ${JSON.stringify(handle.exit)}`);
  }
  return handle;
}
