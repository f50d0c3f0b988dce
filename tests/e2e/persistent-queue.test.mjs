// persistent-queue.test.mjs — sending_queue.storage on a file_storage extension: what llmotlp
// answered OK survives the process.
// The one idea: the backend is down, so everything llmotlp accepted is still only in its
// queue; then the process dies without a drain (SIGKILL), or stops at its shutdown deadline
// (SIGTERM), and a new process on the same storage directory, with the backend up, must
// deliver every span, log record and metric point exactly once and intact, and leave no
// record behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Sink } from './lib/sink.mjs';
import { freePort } from './lib/ports.mjs';
import { startLlmotlp, stopLlmotlp } from './lib/llmotlp.mjs';
import { scrape, sumOf } from './lib/prometheus.mjs';
import { createSdk, shutdownSdk, emitWorkload, emitMetrics } from './lib/sdk.mjs';
import {
  expectedSpans,
  expectedLogRecords,
  expectedMetricPoints,
  assertSpansMatch,
  assertLogsMatch,
  assertMetricPointsMatch,
} from './lib/compare.mjs';
import { scaled, sleep } from './lib/util.mjs';

const SIGNALS = ['traces', 'metrics', 'logs'];

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

/** Records on disk per signal, in the directories named as the Collector names them. */
function records(dir) {
  const out = {};
  for (const signal of SIGNALS) {
    const sub = path.join(dir, `exporter_otlp__${signal}`);
    out[signal] = fs.existsSync(sub) ? fs.readdirSync(sub).filter((n) => n.endsWith('.batch')).length : 0;
  }
  return out;
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

/** The second life: backend up, same storage; everything arrives once and the records go. */
async function restartAndDeliver({ dir, sink, want, config }) {
  await sink.start(); // same port the first process was exporting to
  const llm = await startLlmotlp(config);
  let ok = false;
  try {
    await waitAndAssertAll(sink, want, scaled(30000));
    let left = records(dir);
    for (let i = 0; i < 100 && Object.values(left).some((n) => n > 0); i++) {
      await sleep(50); // a record is removed just after its batch was answered OK
      left = records(dir);
    }
    assert.deepEqual(left, { traces: 0, metrics: 0, logs: 0 }, 'delivered records are removed');
    const m = await scrape(llm.metricsUrl);
    const label = { exporter: 'otlp' };
    assert.equal(sumOf(m.samples, 'llmotlp_exporter_queue_recovered_spans', label), want.spans.length);
    assert.equal(sumOf(m.samples, 'llmotlp_exporter_queue_recovered_log_records', label), want.logs.length);
    assert.equal(sumOf(m.samples, 'llmotlp_exporter_queue_recovered_metric_points', label), want.points.length);
    assert.equal(sumOf(m.samples, 'llmotlp_exporter_queue_corrupt_batches', label), 0);
    assert.equal(sumOf(m.samples, 'otelcol_exporter_sent_spans', label), want.spans.length);
    ok = true;
  } catch (err) {
    llm.dumpLog('second run failed');
    throw err;
  } finally {
    const res = await stopLlmotlp(llm);
    if (ok) assert.deepEqual(res, { code: 0, signal: null }, 'llmotlp must exit 0 on SIGTERM');
  }
}

/** A backend that is down, llmotlp exporting to it with a persistent queue in a fresh dir. */
async function firstLife(t, env) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmotlp-pq-e2e-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const sink = new Sink({ port: await freePort() }); // not started: the backend is down
  t.after(() => sink.stop());
  const config = {
    exporterEndpoint: sink.endpoint,
    storage: { directory: dir },
    maxElapsedTime: '0s', // retry for as long as it takes
    exporterTimeout: '1s',
    ...(env ? { env } : {}),
  };
  const llm = await startLlmotlp(config);
  t.after(() => llm.kill());
  return { dir, sink, config, llm };
}

test('persistent queue: what was accepted before a SIGKILL arrives once after the restart', async (t) => {
  const { dir, sink, config, llm } = await firstLife(t);
  let want;
  try {
    want = await sendAll(llm, 'crash', 5);
    assert.deepEqual(want.errors, [], 'llmotlp accepts while the backend is down');
    assert.equal(want.spans.length, 100);
    // An OK answer means the record is on disk.
    const onDisk = records(dir);
    for (const signal of SIGNALS) assert.ok(onDisk[signal] > 0, `${signal} records on disk: ${JSON.stringify(onDisk)}`);
    await sleep(scaled(500)); // a few retries against the dead backend
    assert.ok(llm.alive, 'llmotlp still running during the outage');
  } catch (err) {
    llm.dumpLog('first run failed');
    throw err;
  }
  const before = records(dir);
  await llm.kill(); // no drain, no shutdown code at all
  assert.equal(llm.exit.signal, 'SIGKILL');
  assert.deepEqual(records(dir), before, 'the records outlive the process');
  assert.equal(sink.calls.length, 0);
  await restartAndDeliver({ dir, sink, want, config });
});

test('persistent queue: the shutdown deadline keeps the queue on disk, not counted as lost', async (t) => {
  const { dir, sink, config, llm } = await firstLife(t, { LLMOTLP_SHUTDOWN_TIMEOUT: '1s' });
  let want;
  try {
    want = await sendAll(llm, 'deadline', 3);
    assert.deepEqual(want.errors, [], 'llmotlp accepts while the backend is down');
  } catch (err) {
    llm.dumpLog('first run failed');
    throw err;
  }
  const exit = await stopLlmotlp(llm, scaled(20000));
  assert.deepEqual(exit, { code: 0, signal: null }, 'a SIGTERM at the deadline still exits 0');
  const log = llm.log();
  assert.match(log, /kept in storage for the next start/);
  assert.doesNotMatch(log, /dropping \d+/, 'nothing is given up: it stays for the next start');
  const left = records(dir);
  for (const signal of SIGNALS) assert.ok(left[signal] > 0, `${signal} records kept: ${JSON.stringify(left)}`);
  await restartAndDeliver({ dir, sink, want, config: { ...config, env: undefined } });
});
