// harness.test.mjs — the control experiment: the SDK exports straight to the sink, no
// llmotlp in between. The one idea: if the comparison passes on a perfect pipe and fails
// on a deliberately corrupted, duplicated or dropped item, then a pass in the llmotlp
// tests means the content really went through intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sink } from './lib/sink.mjs';
import { createSdk, shutdownSdk, emitWorkload, emitMetrics } from './lib/sdk.mjs';
import {
  expectedSpans,
  expectedLogRecords,
  expectedMetricPoints,
  assertSpansMatch,
  assertLogsMatch,
  assertMetricPointsMatch,
  attrMap,
  flatten,
} from './lib/compare.mjs';
import { rawClient, rawCall, status } from './lib/rawclient.mjs';
import { traceRequest } from './lib/requests.mjs';
import { exportPath } from './lib/proto.mjs';
import { scaled } from './lib/util.mjs';

test('harness: SDK -> sink directly round-trips, and the comparison catches tampering', async () => {
  const sink = await new Sink().start();
  try {
    const sdk = createSdk({ url: `http://${sink.endpoint}`, gzipTraces: true });
    const sent = emitWorkload(sdk, { traces: 3, spansPerTrace: 10, logsPerTrace: 2, tag: 'ctl' });
    emitMetrics(sdk, { tag: 'ctl' });
    assert.deepEqual(await shutdownSdk(sdk), [], 'SDK export errors');

    const wantSpans = expectedSpans(sdk.sent.spans);
    const wantLogs = expectedLogRecords(sdk.sent.logs);
    const wantPoints = expectedMetricPoints(sdk.sent.metrics);
    assert.equal(wantSpans.length, sent.spans);
    assert.equal(wantLogs.length, sent.logs);
    assert.ok(wantPoints.length >= 12, `expected at least 12 metric points, SDK has ${wantPoints.length}`);

    await sink.waitFor(
      (s) => s.spans().length >= wantSpans.length && s.logRecords().length >= wantLogs.length && s.metricPoints().length >= wantPoints.length,
      scaled(10000),
    );
    assertSpansMatch(sink.spans(), wantSpans);
    assertLogsMatch(sink.logRecords(), wantLogs);
    assertMetricPointsMatch(sink.metricPoints(), wantPoints);

    // The typed view really sees types: an int stays int_value, a double double_value.
    const client = sink.spans().find((s) => s.span.name.startsWith('chat '));
    const attrs = attrMap(client.span.attributes);
    assert.equal(attrs['gen_ai.usage.input_tokens'].type, 'int_value');
    assert.equal(attrs['gen_ai.request.temperature'].type, 'double_value');

    // Tampering must be detected: a changed attribute, a duplicate, a missing item.
    const got = sink.spans();
    const tampered = got.map((s) => ({ ...s, span: { ...s.span } }));
    tampered[0].span.attributes = [...tampered[0].span.attributes];
    tampered[0].span.attributes[0] = { key: tampered[0].span.attributes[0].key, value: { value: 'string_value', string_value: 'x' } };
    assert.throws(() => assertSpansMatch(tampered, wantSpans), /differs/);
    assert.throws(() => assertSpansMatch([...got, got[3]], wantSpans), /more than once/);
    assert.throws(() => assertSpansMatch(got.slice(1), wantSpans), /differs from sent/);
    const intAsDouble = got.map((s) => ({ ...s, span: { ...s.span } }));
    const idx = intAsDouble.findIndex((s) => s.span.name.startsWith('chat '));
    intAsDouble[idx].span.attributes = intAsDouble[idx].span.attributes.map((kv) =>
      kv.key === 'gen_ai.usage.input_tokens'
        ? { key: kv.key, value: { value: 'double_value', double_value: Number(kv.value.int_value) } }
        : kv,
    );
    assert.throws(() => assertSpansMatch(intAsDouble, wantSpans), /differs/);
    const logs = sink.logRecords();
    const badLogs = logs.map((r) => ({ ...r, record: { ...r.record } }));
    badLogs[0].record.severity_number = 1;
    assert.throws(() => assertLogsMatch(badLogs, wantLogs), /differs/);
    const pts = sink.metricPoints();
    const badPts = pts.map((p) => ({ ...p, point: { ...p.point } }));
    const sumIdx = badPts.findIndex((p) => p.type === 'sum');
    const field = badPts[sumIdx].point.value; // as_int (a decimal string) or as_double
    const v = badPts[sumIdx].point[field];
    badPts[sumIdx].point[field] = typeof v === 'string' ? String(BigInt(v) + 1n) : v + 1;
    assert.throws(() => assertMetricPointsMatch(badPts, wantPoints), /differs/);
  } finally {
    await sink.stop();
  }
});

test('harness: sink fails the next K calls, records them as rejected, then accepts', async () => {
  const sink = await new Sink().start();
  const client = rawClient(sink.endpoint);
  try {
    sink.failNext(2);
    const reqs = [traceRequest({ tag: 'f1' }), traceRequest({ tag: 'f2' }), traceRequest({ tag: 'f3' })];
    const codes = [];
    for (const r of reqs) codes.push((await rawCall(client, exportPath('traces'), r.bytes)).code);
    assert.deepEqual(codes, [status.UNAVAILABLE, status.UNAVAILABLE, status.OK]);
    assert.equal(sink.rejected('traces').length, 2);
    assertSpansMatch(sink.spans(), flatten('traces', reqs[2].decoded));
    // Stopped and started again on the same port, it keeps recording.
    await sink.stop();
    const down = await rawCall(client, exportPath('traces'), reqs[0].bytes, { deadlineMs: 2000 });
    assert.notEqual(down.code, status.OK);
    await sink.start();
    const client2 = rawClient(sink.endpoint);
    const up = await rawCall(client2, exportPath('traces'), reqs[0].bytes);
    client2.close();
    assert.equal(up.code, status.OK, up.details);
    assertSpansMatch(sink.spans(), [...flatten('traces', reqs[2].decoded), ...flatten('traces', reqs[0].decoded)]);
  } finally {
    client.close();
    await sink.stop();
  }
});
