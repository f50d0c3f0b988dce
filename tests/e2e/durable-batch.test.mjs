// durable-batch.test.mjs — sending_queue.batch behind sending_queue.storage: batching after the
// durable write, so a SIGKILL loses nothing llmotlp answered OK.
// The one idea: the backend is down and min_size is far above what is sent, so every accepted
// request sits on disk while the exporter's batcher merges them (flush_timeout 200ms) and the
// merged request is retried against the dead backend; then the process is killed with no
// drain at all. A new process on the same storage directory with the backend up must deliver
// every span exactly once and leave no record behind. No duplicate is expected here: nothing
// was delivered before the kill (the backend was down), and records are removed only after
// their items are settled, so a record can be replayed only if its items were not yet
// delivered — or, at worst, delivered in the instant before the kill (at least once), which
// this scenario rules out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import grpc from '@grpc/grpc-js';
import { Sink } from './lib/sink.mjs';
import { freePort } from './lib/ports.mjs';
import { startLlmotlp, stopLlmotlp } from './lib/llmotlp.mjs';
import { rawClient, rawCall } from './lib/rawclient.mjs';
import { encodeRequest, exportPath } from './lib/proto.mjs';
import { scrape, sumOf } from './lib/prometheus.mjs';
import { scaled, sleep } from './lib/util.mjs';

const N_REQUESTS = 30;
const SPANS_PER_REQUEST = 5;

function request(i) {
  const traceId = crypto.randomBytes(16);
  const now = BigInt(Date.now()) * 1000000n;
  const spans = [];
  for (let k = 0; k < SPANS_PER_REQUEST; k++)
    spans.push({
      trace_id: traceId,
      span_id: crypto.randomBytes(8),
      name: `span-${i}-${k}`,
      kind: 3,
      start_time_unix_nano: String(now),
      end_time_unix_nano: String(now + 1000n),
    });
  return encodeRequest('traces', {
    resource_spans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { string_value: `gw-${i % 3}` } }] },
        scope_spans: [{ scope: { name: 'e2e.durable-batch' }, spans }],
      },
    ],
  });
}

function records(dir) {
  const sub = path.join(dir, 'exporter_otlp__traces');
  return fs.existsSync(sub) ? fs.readdirSync(sub).filter((n) => n.endsWith('.batch')).length : 0;
}

test('sending_queue.batch with storage: what was answered OK before a SIGKILL arrives once after the restart', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmotlp-dbatch-e2e-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const sink = new Sink({ port: await freePort() }); // not started: the backend is down
  t.after(() => sink.stop());
  const config = {
    exporterEndpoint: sink.endpoint,
    storage: { directory: dir },
    queueBatch: { flush_timeout: '200ms', min_size: 100000 },
    maxElapsedTime: '0s',
    exporterTimeout: '1s',
  };
  const llm = await startLlmotlp(config);
  t.after(() => llm.kill());
  try {
    const clients = [0, 1, 2].map(() => rawClient(llm.endpoint));
    const answers = await Promise.all(
      Array.from({ length: N_REQUESTS }, (_, i) => rawCall(clients[i % 3], exportPath('traces'), request(i))),
    );
    for (const c of clients) c.close();
    for (const a of answers) assert.equal(a.code, grpc.status.OK, `answered OK: ${a.details}`);
    assert.equal(records(dir), N_REQUESTS, 'each request answered OK is on disk');
    await sleep(scaled(800)); // past flush_timeout: merged, sent, refused, retrying
    assert.equal(records(dir), N_REQUESTS, 'nothing settled, nothing removed');
    assert.match(llm.log(), /retrying \d+ spans/, 'the merged request is being retried');
  } catch (err) {
    llm.dumpLog('first run failed');
    throw err;
  }
  await llm.kill();
  assert.equal(llm.exit.signal, 'SIGKILL');
  assert.equal(records(dir), N_REQUESTS, 'the records outlive the process');
  assert.equal(sink.calls.length, 0);

  await sink.start();
  const llm2 = await startLlmotlp(config);
  let ok = false;
  try {
    const want = N_REQUESTS * SPANS_PER_REQUEST;
    await sink.waitFor((s) => s.spans().length >= want, scaled(20000));
    await sleep(scaled(1000)); // late duplicates, if any, must be seen
    const counts = new Map();
    for (const { span } of sink.spans()) counts.set(span.name, (counts.get(span.name) ?? 0) + 1);
    for (let i = 0; i < N_REQUESTS; i++)
      for (let k = 0; k < SPANS_PER_REQUEST; k++)
        assert.equal(counts.get(`span-${i}-${k}`), 1, `span-${i}-${k} delivered once`);
    assert.equal(sink.spans().length, want, 'no duplicates');
    // merged again after the restart: far fewer calls than requests
    assert.ok(sink.accepted('traces').length < N_REQUESTS, `merged: ${sink.accepted('traces').length} calls`);
    let left = records(dir);
    for (let i = 0; i < 100 && left > 0; i++) {
      await sleep(50);
      left = records(dir);
    }
    assert.equal(left, 0, 'settled records are removed');
    const m = await scrape(llm2.metricsUrl);
    const label = { exporter: 'otlp' };
    assert.equal(sumOf(m.samples, 'llmotlp_exporter_queue_recovered_spans', label), want);
    assert.equal(sumOf(m.samples, 'otelcol_exporter_sent_spans', label), want);
    assert.equal(sumOf(m.samples, 'otelcol_exporter_send_failed_spans', label), 0);
    ok = true;
  } catch (err) {
    llm2.dumpLog('second run failed');
    throw err;
  } finally {
    const res = await stopLlmotlp(llm2);
    if (ok) assert.deepEqual(res, { code: 0, signal: null });
  }
});
