// poison.test.mjs — one bad span must not cost the good ones it was batched with.
// The one idea: a strict backend (the recording sink, answering INVALID_ARGUMENT to any
// Export request holding a span with attribute poison=true) sits behind llmotlp, whose
// `batch` processor (or the exporter's own sending_queue.batch) merges 100 good spans and one
// poisoned span, sent in separate requests by several clients, into one request. The backend
// refuses it whole; llmotlp must narrow the refusal down to the poisoned span, so exactly the
// 100 good spans arrive, each once, and its own send_failed counter says 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import grpc from '@grpc/grpc-js';
import { Sink } from './lib/sink.mjs';
import { startLlmotlp, stopLlmotlp } from './lib/llmotlp.mjs';
import { rawClient, rawCall } from './lib/rawclient.mjs';
import { encodeRequest, exportPath } from './lib/proto.mjs';
import { scrape, sumOf } from './lib/prometheus.mjs';
import { scaled, sleep } from './lib/util.mjs';

/** The recording sink, strict: a request with a poisoned span is refused whole. */
class StrictSink extends Sink {
  _handler(signal) {
    const accept = super._handler(signal);
    return (call, callback) => {
      const poisoned = (call.request.resource_spans ?? []).some((rs) =>
        (rs.scope_spans ?? []).some((ss) =>
          (ss.spans ?? []).some((sp) =>
            (sp.attributes ?? []).some((a) => a.key === 'poison' && a.value?.bool_value === true),
          ),
        ),
      );
      if (!poisoned) return accept(call, callback);
      this.calls.push({ signal, request: call.request, at: Date.now(), code: grpc.status.INVALID_ARGUMENT });
      callback({ code: grpc.status.INVALID_ARGUMENT, details: 'span attribute poison=true is not allowed' });
    };
  }
}

/** One request of `names.length` spans of one new trace; a name starting "poison" is poisoned. */
function spansRequest(names, client) {
  const traceId = crypto.randomBytes(16);
  const now = BigInt(Date.now()) * 1000000n;
  const spans = names.map((name, i) => ({
    trace_id: traceId,
    span_id: crypto.randomBytes(8),
    name,
    kind: 3,
    start_time_unix_nano: String(now + BigInt(i)),
    end_time_unix_nano: String(now + BigInt(i) + 1000n),
    attributes: name.startsWith('poison')
      ? [{ key: 'poison', value: { bool_value: true } }]
      : [{ key: 'e2e.client', value: { string_value: client } }],
  }));
  return encodeRequest('traces', {
    resource_spans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { string_value: `gateway-${client}` } }] },
        scope_spans: [{ scope: { name: 'e2e.poison' }, spans }],
      },
    ],
  });
}

/** 100 good spans in 25 requests from 4 clients at once, the poisoned span in its own. */
async function sendWorkload(llm) {
  const clients = [0, 1, 2, 3].map(() => rawClient(llm.endpoint));
  const answers = [];
  try {
    const work = [];
    for (let c = 0; c < 4; c++) {
      work.push(
        (async () => {
          for (let r = 0; r < 25 / 4 + 1; r++) {
            const first = (r * 4 + c) * 4;
            if (first >= 100) break;
            const names = [0, 1, 2, 3].map((k) => `good-${first + k}`);
            answers.push(await rawCall(clients[c], exportPath('traces'), spansRequest(names, `c${c}`)));
            if (r === 3 && c === 2)
              answers.push(await rawCall(clients[c], exportPath('traces'), spansRequest(['poison-1'], `c${c}`)));
          }
        })(),
      );
    }
    await Promise.all(work);
  } finally {
    for (const c of clients) c.close();
  }
  return answers;
}

async function runCase(t, { processorsYaml, processors, queueBatch }) {
  const sink = new StrictSink();
  await sink.start();
  t.after(() => sink.stop());
  const llm = await startLlmotlp({
    exporterEndpoint: sink.endpoint,
    processorsYaml,
    processors: processors ?? [],
    queueBatch,
    maxElapsedTime: '0s',
  });
  t.after(() => llm.kill());
  let ok = false;
  try {
    const answers = await sendWorkload(llm);
    assert.equal(answers.length, 26);
    for (const a of answers) assert.equal(a.code, grpc.status.OK, `llmotlp answers OK: ${a.details}`);

    const label = { exporter: 'otlp' };
    let failed = 0;
    await sink.waitFor(() => sink.spans().length >= 100, scaled(20000));
    for (let i = 0; i < 100 && failed < 1; i++) {
      failed = sumOf((await scrape(llm.metricsUrl)).samples, 'otelcol_exporter_send_failed_spans', label);
      if (failed < 1) await sleep(100);
    }
    await sleep(scaled(500)); // a late duplicate, if any, must be seen

    const counts = new Map();
    for (const { span } of sink.spans()) counts.set(span.name, (counts.get(span.name) ?? 0) + 1);
    for (let i = 0; i < 100; i++) assert.equal(counts.get(`good-${i}`), 1, `good-${i} delivered once`);
    assert.equal(counts.get('poison-1'), undefined, 'the poisoned span is never accepted');
    assert.equal(sink.spans().length, 100);
    // The poison travelled merged with good spans at least once: the refusal was narrowed.
    const refused = sink.rejected('traces');
    assert.ok(refused.length >= 1, 'the backend refused something');
    const biggest = Math.max(
      ...refused.map((c) => c.request.resource_spans.reduce((n, rs) => n + rs.scope_spans.reduce((m, ss) => m + ss.spans.length, 0), 0)),
    );
    assert.ok(biggest > 1, `a merged request holding the poison was refused (largest refused: ${biggest} spans)`);
    // Narrowing 101 spans to 1 takes a few halvings, not a send per span.
    assert.ok(sink.calls.length <= 2 * 8 + 6, `bounded extra sends: ${sink.calls.length} calls`);

    const m = await scrape(llm.metricsUrl);
    assert.equal(sumOf(m.samples, 'otelcol_exporter_send_failed_spans', label), 1);
    assert.equal(sumOf(m.samples, 'otelcol_exporter_sent_spans', label), 100);
    assert.match(llm.log(), /refused as bad data: INVALID_ARGUMENT: span attribute poison=true/);
    ok = true;
  } catch (err) {
    llm.dumpLog('poison test failed');
    throw err;
  } finally {
    const res = await stopLlmotlp(llm);
    if (ok) assert.deepEqual(res, { code: 0, signal: null });
  }
}

test('poison: behind the batch processor, 100 good spans arrive once and 1 poisoned span is counted failed', async (t) => {
  await runCase(t, {
    processorsYaml: '  batch:\n    timeout: 1s\n    send_batch_size: 1000\n',
    processors: ['batch'],
  });
});

test('poison: merged by sending_queue.batch, the same', async (t) => {
  await runCase(t, { queueBatch: { flush_timeout: '1s', min_size: 1000 } });
});
