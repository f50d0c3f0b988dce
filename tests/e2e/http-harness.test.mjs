// http-harness.test.mjs — the control experiments for the OTLP/HTTP tests, with no llmotlp
// in between. The one idea: the HTTP sink, the OTLP/JSON mapping, the curl and node clients
// and the Prometheus parser are test instruments; each is shown here to measure correctly on
// a known input (the official SDK's own http/protobuf and http/json exporters, with and
// without gzip, straight into the sink) and to fail on a wrong one, so a pass in the llmotlp
// tests means something.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { HttpSink } from './lib/httpsink.mjs';
import { createSdk, shutdownSdk, emitWorkload, emitMetrics } from './lib/sdk.mjs';
import { canonicalSpans, canonicalLogRecords, canonicalMetricPoints, canonicalItems } from './lib/canonical.mjs';
import {
  assertSpansMatch,
  assertLogsMatch,
  assertMetricPointsMatch,
  flatten,
  normalize,
} from './lib/compare.mjs';
import { jsonToDecoded, toOtlpJson, decodeStatus, StatusType, canonical } from './lib/otlpjson.mjs';
import { httpRequest, postOtlp, curl } from './lib/httpclient.mjs';
import { parseExposition, sumOf } from './lib/prometheus.mjs';
import { traceRequest } from './lib/requests.mjs';
import { scaled } from './lib/util.mjs';

for (const protocol of ['http/protobuf', 'http/json']) {
  for (const gzip of [false, true]) {
    test(`http harness: SDK ${protocol}${gzip ? ' + gzip' : ''} -> http sink directly round-trips`, async () => {
      const sink = await new HttpSink().start();
      try {
        const sdk = createSdk({ url: sink.url, protocol, gzip });
        const sent = emitWorkload(sdk, { traces: 3, spansPerTrace: 8, logsPerTrace: 2, tag: 'hctl' });
        emitMetrics(sdk, { tag: 'hctl' });
        assert.deepEqual(await shutdownSdk(sdk), [], 'SDK export errors');
        const wantSpans = canonicalSpans(sdk.sent.spans);
        const wantLogs = canonicalLogRecords(sdk.sent.logs);
        const wantPoints = canonicalMetricPoints(sdk.sent.metrics);
        assert.equal(wantSpans.length, sent.spans);
        assert.equal(wantLogs.length, sent.logs);
        assert.ok(wantPoints.length >= 12);
        await sink.waitFor(
          (s) => s.spans().length >= wantSpans.length && s.logRecords().length >= wantLogs.length && s.metricPoints().length >= wantPoints.length,
          scaled(10000),
        );
        // The sink saw the encoding the SDK chose, so both decoding paths are exercised.
        const wantType = protocol === 'http/json' ? 'application/json' : 'application/x-protobuf';
        assert.deepEqual([...new Set(sink.calls.map((c) => c.contentType))], [wantType]);
        assert.deepEqual([...new Set(sink.calls.map((c) => c.contentEncoding))], [gzip ? 'gzip' : '']);
        assert.deepEqual(sink.calls.filter((c) => c.error).map((c) => c.error), []);
        assertSpansMatch(sink.spans(), wantSpans);
        assertLogsMatch(sink.logRecords(), wantLogs);
        assertMetricPointsMatch(sink.metricPoints(), wantPoints);
        // Tampering is caught.
        const got = sink.spans();
        const bad = got.map((s) => ({ ...s, span: { ...s.span } }));
        bad[1].span.name += 'x';
        assert.throws(() => assertSpansMatch(bad, wantSpans), /differs/);
        assert.throws(() => assertSpansMatch([...got, got[0]], wantSpans), /more than once/);
        assert.throws(() => assertSpansMatch(got.slice(1), wantSpans), /differs from sent/);
      } finally {
        await sink.stop();
      }
    });
  }
}

test('http harness: the OTLP/JSON mapping is strict and round-trips', () => {
  const r = traceRequest({ n: 3, tag: 'json' });
  const json = toOtlpJson('traces', r.obj);
  const span = json.resourceSpans[0].scopeSpans[0].spans[0];
  assert.equal(span.traceId, r.traceIdHex, 'trace IDs are hex');
  assert.equal(typeof span.kind, 'number', 'enums are integers');
  assert.equal(typeof span.startTimeUnixNano, 'string', '64-bit integers are strings');
  assert.deepEqual(normalize(jsonToDecoded('traces', JSON.stringify(json))), normalize(canonical('traces', r.decoded)));
  // snake_case keys are refused unless asked for, and then mean the same thing
  const snake = JSON.parse(JSON.stringify(json).replace(/"resourceSpans"/g, '"resource_spans"').replace(/"traceId"/g, '"trace_id"'));
  assert.throws(() => jsonToDecoded('traces', snake), /unknown field "resource_spans"/);
  assert.deepEqual(normalize(jsonToDecoded('traces', snake, { allowSnake: true })), normalize(canonical('traces', r.decoded)));
  // base64 IDs, short IDs, string enums: refused
  const b64 = structuredClone(json);
  b64.resourceSpans[0].scopeSpans[0].spans[0].traceId = Buffer.from(r.traceIdHex, 'hex').toString('base64');
  assert.throws(() => jsonToDecoded('traces', b64), /not 16 bytes of hex/);
  const strEnum = structuredClone(json);
  strEnum.resourceSpans[0].scopeSpans[0].spans[0].kind = 'SPAN_KIND_SERVER';
  assert.throws(() => jsonToDecoded('traces', strEnum), /must be an integer/);
  // A changed value is a different decoded object.
  const changed = structuredClone(json);
  changed.resourceSpans[0].scopeSpans[0].spans[0].attributes[1].value.intValue = '7';
  assert.notDeepEqual(normalize(jsonToDecoded('traces', changed)), normalize(canonical('traces', r.decoded)));
  // Canonical form drops only defaults without presence: a oneof member set to 0 stays.
  const zero = structuredClone(json);
  zero.resourceSpans[0].scopeSpans[0].spans[0].attributes[1].value.intValue = '0';
  zero.resourceSpans[0].scopeSpans[0].spans[0].droppedAttributesCount = 0;
  const z = jsonToDecoded('traces', zero).resource_spans[0].scope_spans[0].spans[0];
  assert.deepEqual(z.attributes[1].value, { value: 'int_value', int_value: '0' });
  assert.equal(z.dropped_attributes_count, undefined);
  // google.rpc.Status decodes; garbage does not.
  const st = decodeStatus(Buffer.from(StatusType.encode(StatusType.fromObject({ code: 3, message: 'bad' })).finish()));
  assert.deepEqual({ code: st.code, message: st.message }, { code: 3, message: 'bad' });
  assert.throws(() => decodeStatus(Buffer.from([0x0a, 0x64, 0x01])));
});

test('http harness: the sink refuses K requests with 503 + Retry-After, holds, and decodes gzip', async () => {
  const sink = await new HttpSink().start();
  try {
    const r1 = traceRequest({ n: 2, tag: 'k1' });
    sink.failNext(2, 503, '3');
    const a = await postOtlp(sink.url, 'traces', r1.bytes);
    const b = await postOtlp(sink.url, 'traces', zlib.gzipSync(r1.bytes), { gzip: true });
    const c = await postOtlp(sink.url, 'traces', Buffer.from(JSON.stringify(toOtlpJson('traces', r1.obj))), { contentType: 'application/json' });
    assert.deepEqual([a.status, b.status, c.status], [503, 503, 200]);
    assert.equal(a.headers['retry-after'], '3');
    assert.equal(c.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(c.body.toString()), {});
    assert.equal(sink.rejected('traces').length, 2);
    assertSpansMatch(sink.spans(), canonicalItems('traces', r1.decoded));
    // canonical form is not lenient: the raw decoded form (explicit empty parent ID) differs
    assert.throws(() => assertSpansMatch(sink.spans(), flatten('traces', r1.decoded)), /differs/);
    // garbage -> 400 and not recorded as accepted
    const g = await postOtlp(sink.url, 'traces', Buffer.from([0x0a, 0x64, 0x01]));
    assert.equal(g.status, 400);
    assert.equal(sink.spans().length, 2);
    // held requests are not answered (and not accepted) until released
    sink.hold();
    const r2 = traceRequest({ n: 1, tag: 'held' });
    const pending = postOtlp(sink.url, 'traces', r2.bytes);
    await sink.waitFor((s) => s.calls.length === 5, scaled(5000));
    assert.equal(sink.calls[4].status, 0);
    assert.equal(sink.spans().length, 2);
    sink.release();
    assert.equal((await pending).status, 200);
    assert.equal(sink.spans().length, 3);
    // curl reaches it too, and its status and headers are read back
    const cr = await curl(['-X', 'GET', `${sink.url}/v1/traces`]);
    assert.equal(cr.status, 405);
    assert.equal(cr.headers.allow, 'POST');
  } finally {
    await sink.stop();
  }
});

test('http harness: node client reports an early answer to an oversized upload', async () => {
  // A server that answers 413 at once without reading the body, and closes.
  const http = await import('node:http');
  const server = http.createServer((req, res) => {
    res.writeHead(413, { Connection: 'close' });
    res.end('too big');
    req.socket.destroySoon?.();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const res = await httpRequest(`http://127.0.0.1:${server.address().port}/v1/traces`, {
      headers: { 'Content-Type': 'application/x-protobuf' },
      body: Buffer.alloc(8 * 1024 * 1024),
    });
    assert.equal(res.status, 413);
  } finally {
    server.close();
  }
});

test('http harness: the exposition parser reads samples and refuses malformed lines', () => {
  const text = [
    '# HELP otelcol_receiver_accepted_spans Spans accepted.',
    '# TYPE otelcol_receiver_accepted_spans counter',
    'otelcol_receiver_accepted_spans{receiver="otlp",transport="grpc"} 10',
    'otelcol_receiver_accepted_spans{receiver="otlp",transport="http"} 5',
    'otelcol_process_memory_rss 1.5e+07',
    'weird{a="x\\"y",b="c\\\\d"} +Inf',
    '',
  ].join('\n');
  const p = parseExposition(text);
  assert.equal(p.types.otelcol_receiver_accepted_spans, 'counter');
  assert.equal(sumOf(p.samples, 'otelcol_receiver_accepted_spans'), 15);
  assert.equal(sumOf(p.samples, 'otelcol_receiver_accepted_spans', { transport: 'http' }), 5);
  assert.equal(sumOf(p.samples, 'otelcol_process_memory_rss'), 15000000);
  assert.deepEqual(p.samples.find((s) => s.name === 'weird').labels, { a: 'x"y', b: 'c\\d' });
  assert.throws(() => parseExposition('otelcol_x{a="1"'), /not a sample/);
  assert.throws(() => parseExposition('otelcol_x one'), /bad value/);
});
