// downstream-outage.test.mjs — the backend goes away, or refuses, and comes back.
// The one idea: llmotlp accepts while the backend is down (its sending queue holds the
// data) and its exporter retries until the backend answers OK; so after recovery the sink
// must hold every item exactly once — no loss, and no duplicate from a retry of a request
// that had already succeeded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withStack } from './lib/stack.mjs';
import { createSdk, shutdownSdk, emitWorkload, emitMetrics } from './lib/sdk.mjs';
import {
  expectedSpans,
  expectedLogRecords,
  expectedMetricPoints,
  assertSpansMatch,
  assertLogsMatch,
  assertMetricPointsMatch,
  flatten,
  spanKey,
  logKey,
  pointKey,
} from './lib/compare.mjs';
import { scaled, sleep } from './lib/util.mjs';

async function sendAll(llm, tag, traces) {
  const sdk = createSdk({ url: llm.url });
  emitWorkload(sdk, { traces, spansPerTrace: 20, logsPerTrace: 2, tag });
  emitMetrics(sdk, { tag });
  const errors = await shutdownSdk(sdk);
  return {
    errors,
    spans: expectedSpans(sdk.sent.spans),
    logs: expectedLogRecords(sdk.sent.logs),
    points: expectedMetricPoints(sdk.sent.metrics),
  };
}

async function waitAndAssertAll(sink, want, timeoutMs) {
  await sink.waitFor(
    (s) =>
      s.spans().length >= want.spans.length &&
      s.logRecords().length >= want.logs.length &&
      s.metricPoints().length >= want.points.length,
    timeoutMs,
  );
  await sleep(scaled(1000)); // late duplicates, if any, must be seen
  assertSpansMatch(sink.spans(), want.spans);
  assertLogsMatch(sink.logRecords(), want.logs);
  assertMetricPointsMatch(sink.metricPoints(), want.points);
}

test('outage: data sent while the backend is down arrives exactly once after it returns', async () => {
  await withStack({}, async ({ sink, llm }) => {
    await sink.stop();
    const want = await sendAll(llm, 'outage', 5);
    assert.deepEqual(want.errors, [], 'llmotlp should queue, not refuse, while the backend is down');
    assert.equal(want.spans.length, 100);
    await sleep(scaled(3000));
    assert.ok(llm.alive, 'llmotlp still running during the outage');
    assert.equal(sink.calls.length, 0);
    await sink.start(); // same port
    await waitAndAssertAll(sink, want, scaled(30000));
  });
});

test('outage: the backend answers UNAVAILABLE to the first calls; retries deliver everything once', async () => {
  await withStack({}, async ({ sink, llm }) => {
    const K = 4;
    sink.failNext(K);
    const want = await sendAll(llm, 'throttle', 3);
    assert.deepEqual(want.errors, [], 'llmotlp should accept while the backend refuses');
    await waitAndAssertAll(sink, want, scaled(30000));
    assert.equal(sink.rejected().length, K, 'the sink refused exactly K calls');
    // What the sink refused was retried: every item of a refused call is among the accepted.
    const acceptedKeys = new Set([
      ...sink.spans().map(spanKey),
      ...sink.logRecords().map(logKey),
      ...sink.metricPoints().map(pointKey),
    ]);
    let refusedItems = 0;
    for (const c of sink.rejected()) {
      const keyOf = c.signal === 'traces' ? spanKey : c.signal === 'logs' ? logKey : pointKey;
      for (const item of flatten(c.signal, c.request)) {
        refusedItems++;
        assert.ok(acceptedKeys.has(keyOf(item)), `refused ${c.signal} item ${keyOf(item)} was never delivered`);
      }
    }
    assert.ok(refusedItems > 0, 'the refused calls carried data');
  });
});
