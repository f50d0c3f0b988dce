// shutdown.test.mjs — SIGTERM while data is still on its way to a slow backend.
// The one idea: an OK from llmotlp is a promise of delivery; so whatever it answered OK
// before (or while) it was told to stop must reach the backend before the process exits,
// exactly once, and the process must still exit 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withStack } from './lib/stack.mjs';
import { stopLlmotlp } from './lib/llmotlp.mjs';
import { rawClient, rawCall, status } from './lib/rawclient.mjs';
import { traceRequest } from './lib/requests.mjs';
import { exportPath } from './lib/proto.mjs';
import { createSdk, shutdownSdk, emitWorkload } from './lib/sdk.mjs';
import { flatten, expectedSpans, assertSameItems, assertSpansMatch, spanKey } from './lib/compare.mjs';
import { scaled } from './lib/util.mjs';

const SINK_DELAY_MS = 100; // a slow backend, so the queue is not empty at SIGTERM

test('shutdown: SIGTERM during a stream of requests drains every accepted span, exit 0', async (t) => {
  await withStack({ sinkDelayMs: SINK_DELAY_MS, selfStop: true }, async ({ sink, llm }) => {
    const client = rawClient(llm.endpoint);
    try {
      // Four senders pipeline requests; after 10 OK answers llmotlp gets SIGTERM, and the
      // senders keep going until it has exited (or a bound), so requests also hit it while
      // it is shutting down.
      const reqs = [];
      const results = [];
      let okCount = 0;
      let stopping = false;
      const MAX_REQUESTS = 200;
      const sender = async () => {
        while (reqs.length < MAX_REQUESTS && llm.alive) {
          const i = reqs.length;
          reqs.push(traceRequest({ n: 20, tag: `drain-${i}` }));
          const res = await rawCall(client, exportPath('traces'), reqs[i].bytes, { deadlineMs: scaled(20000) });
          results[i] = res;
          if (res.code === status.OK) okCount++;
          if (stopping && res.code !== status.OK) break; // refused: it is going away
        }
      };
      const senders = [sender(), sender(), sender(), sender()];
      const t0 = Date.now();
      while (okCount < 10 && reqs.length < MAX_REQUESTS && Date.now() - t0 < scaled(20000)) {
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.ok(okCount >= 10, `llmotlp accepted ${okCount} requests before the SIGTERM`);
      stopping = true;
      const deliveredAtTerm = sink.spans().length;
      const exitPromise = stopLlmotlp(llm, scaled(30000));
      await Promise.all(senders);
      const exit = await exitPromise;
      const sinkAtExit = sink.spans(); // recorded on receipt: this is what arrived before the exit
      assert.deepEqual(exit, { code: 0, signal: null }, 'exit after SIGTERM');

      const accepted = reqs.filter((_, i) => results[i].code === status.OK);
      const refusedCodes = results.filter((r) => r.code !== status.OK).map((r) => r.code);
      // A request refused during shutdown must be refused with a status a client retries.
      for (const c of refusedCodes) {
        assert.ok([status.UNAVAILABLE, status.CANCELLED, status.DEADLINE_EXCEEDED, status.ABORTED].includes(c),
          `a request during shutdown was refused with non-retryable code ${c}`);
      }
      const acceptedSpans = accepted.flatMap((r) => flatten('traces', r.decoded));
      const sentByKey = new Map(reqs.flatMap((r) => flatten('traces', r.decoded)).map((s) => [spanKey(s), s]));
      // Everything accepted arrived, once; anything else that arrived was sent and is intact.
      const arrivedAccepted = sinkAtExit.filter((s) => accepted.some((r) => r.traceIdHex === s.span.trace_id.toString('hex')));
      assertSameItems('accepted span', arrivedAccepted, acceptedSpans, spanKey, (s) => s);
      const keys = new Set();
      for (const s of sinkAtExit) {
        const k = spanKey(s);
        assert.ok(!keys.has(k), `span ${k} delivered twice`);
        keys.add(k);
        assert.ok(sentByKey.has(k), `span ${k} arrived but was never sent`);
      }
      t.diagnostic(
        `${accepted.length}/${reqs.length} requests accepted (codes of the rest: ${[...new Set(refusedCodes)].join(',') || '-'}); ` +
          `${deliveredAtTerm} spans delivered at SIGTERM, ${sinkAtExit.length} at exit`,
      );
    } finally {
      client.close();
    }
  });
});

test('shutdown: SIGTERM right after the SDK flushed; every flushed span arrives, exit 0', async () => {
  await withStack({ sinkDelayMs: SINK_DELAY_MS, selfStop: true }, async ({ sink, llm }) => {
    const sdk = createSdk({ url: llm.url, signals: ['traces'] });
    emitWorkload(sdk, { traces: 15, spansPerTrace: 20, logsPerTrace: 0, tag: 'flush-then-term' });
    assert.deepEqual(await shutdownSdk(sdk), [], 'llmotlp refused some SDK exports');
    const exit = await stopLlmotlp(llm, scaled(30000));
    const sinkAtExit = sink.spans();
    assert.deepEqual(exit, { code: 0, signal: null }, 'exit after SIGTERM');
    assertSpansMatch(sinkAtExit, expectedSpans(sdk.sent.spans));
  });
});
