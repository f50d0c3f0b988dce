// http-sdk.test.mjs — OTLP/HTTP end to end: the official JS SDK's http/protobuf and
// http/json exporters (with and without gzip) -> llmotlp's HTTP receiver -> llmotlp's
// otlphttp exporter (proto or json, plain or gzip) -> an OTLP/HTTP server that is not ours.
// The one idea: four receive/export encoding pairs cross every decoder and encoder llmotlp
// has for HTTP, and in each one every span, log record and metric point must arrive exactly
// once and equal the SDK's own copy field by field; a backend that throttles with 503 +
// Retry-After must cost nothing but time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withStack } from './lib/stack.mjs';
import { createSdk, shutdownSdk, emitWorkload, emitMetrics } from './lib/sdk.mjs';
import { canonicalSpans, canonicalLogRecords, canonicalMetricPoints } from './lib/canonical.mjs';
import { assertSpansMatch, assertLogsMatch, assertMetricPointsMatch, attrMap, normalize } from './lib/compare.mjs';
import { hex, scaled, sleep } from './lib/util.mjs';

const CASES = [
  { protocol: 'http/protobuf', gzip: false, encoding: 'proto', compression: 'none' },
  { protocol: 'http/protobuf', gzip: true, encoding: 'json', compression: 'gzip' },
  { protocol: 'http/json', gzip: false, encoding: 'json', compression: 'none' },
  { protocol: 'http/json', gzip: true, encoding: 'proto', compression: 'gzip' },
];

const CONTENT_TYPE = { proto: 'application/x-protobuf', json: 'application/json' };

/** Run the SDK workload into llmotlp's HTTP receiver; returns the canonical truth. */
async function sendWorkload(llm, { protocol, gzip }, tag) {
  const sdk = createSdk({ url: llm.httpUrl, protocol, gzip });
  const sent = emitWorkload(sdk, { traces: 6, spansPerTrace: 10, logsPerTrace: 3, tag });
  const metricValues = emitMetrics(sdk, { tag });
  assert.deepEqual(await shutdownSdk(sdk), [], 'llmotlp refused some SDK exports');
  const want = {
    spans: canonicalSpans(sdk.sent.spans),
    logs: canonicalLogRecords(sdk.sent.logs),
    points: canonicalMetricPoints(sdk.sent.metrics),
  };
  assert.equal(want.spans.length, sent.spans);
  assert.equal(want.logs.length, sent.logs);
  assert.ok(want.points.length >= 12, `the SDK produced ${want.points.length} metric points`);
  return { want, metricValues };
}

async function assertDelivered(sink, want) {
  await sink.waitFor(
    (s) => s.spans().length >= want.spans.length && s.logRecords().length >= want.logs.length && s.metricPoints().length >= want.points.length,
    scaled(20000),
  );
  await sleep(scaled(500)); // late duplicates would show up here
  assertSpansMatch(sink.spans(), want.spans);
  assertLogsMatch(sink.logRecords(), want.logs);
  assertMetricPointsMatch(sink.metricPoints(), want.points);
}

for (const c of CASES) {
  const name = `http sdk: ${c.protocol}${c.gzip ? '+gzip' : ''} in, otlphttp ${c.encoding}${c.compression === 'gzip' ? '+gzip' : ''} out: every item once, intact`;
  test(name, async () => {
    await withStack(
      { httpSink: true, config: { http: true, encoding: c.encoding, compression: c.compression } },
      async ({ sink, llm }) => {
        const { want, metricValues } = await sendWorkload(llm, c, `h-${c.encoding}`);
        await assertDelivered(sink, want);

        // The backend really got the configured encoding and compression, on the right paths.
        const calls = sink.accepted();
        assert.ok(calls.length > 0);
        assert.deepEqual([...new Set(calls.map((x) => x.contentType))], [CONTENT_TYPE[c.encoding]]);
        assert.deepEqual([...new Set(calls.map((x) => x.contentEncoding))], [c.compression === 'gzip' ? 'gzip' : '']);
        assert.deepEqual([...new Set(calls.map((x) => x.url))].sort(), ['/v1/logs', '/v1/metrics', '/v1/traces']);
        assert.deepEqual(sink.calls.filter((x) => x.error).map((x) => x.error), [], 'bodies the backend could not decode');

        // Hand checks, independent of any serializer: typed attributes and IDs survive.
        const client = sink.spans().find((s) => s.span.name.startsWith('chat '));
        const a = attrMap(client.span.attributes);
        assert.deepEqual(a['gen_ai.usage.input_tokens'].type, 'int_value');
        assert.equal(a['llm.request.size_bytes'].value, String(2 ** 33 + 1));
        assert.equal(a['gen_ai.request.temperature'].type, 'double_value');
        assert.equal(a['llm.prompt.preview'].value, 'Summarize: héllo wörld 世界 🚀 "quoted" \\ backslash');
        assert.equal(hex(client.span.trace_id).length, 32);
        const points = sink.metricPoints();
        const counter = points.find(
          (p) => p.metric.name === 'gen_ai.client.token.usage.total' &&
            attrMap(p.point.attributes)['gen_ai.request.model'].value === 'gpt-4o-mini' &&
            attrMap(p.point.attributes)['gen_ai.token.type'].value === 'input',
        );
        assert.equal(Number(counter.point[counter.point.value]), metricValues.counters['gpt-4o-mini|input']);
        const hist = points.find((p) => p.type === 'histogram' && attrMap(p.point.attributes)['gen_ai.request.model'].value === 'llama-3.1-70b');
        assert.deepEqual(hist.point.bucket_counts.map(Number), metricValues.histograms['llama-3.1-70b'].buckets);
      },
    );
  });
}

test('http sdk: a backend answering 503 + Retry-After to the first requests loses nothing and is waited for', async (t) => {
  const K = 3;
  await withStack(
    { httpSink: true, config: { http: true, encoding: 'proto', compression: 'gzip', numConsumers: 1 } },
    async ({ sink, llm }) => {
      sink.failNext(K, 503, '1');
      const { want } = await sendWorkload(llm, { protocol: 'http/protobuf', gzip: false }, 'h-503');
      await assertDelivered(sink, want);
      const refused = sink.rejected();
      assert.equal(refused.length, K, 'the backend refused exactly K requests');
      assert.ok(refused.every((r) => r.status === 503));
      // One sender: the request that follows a refused one on the same signal is its
      // retry — the same content, sent no earlier than the Retry-After (1 s) allowed.
      for (const r of refused) {
        const i = sink.calls.indexOf(r);
        const next = sink.calls.slice(i + 1).find((x) => x.signal === r.signal);
        assert.ok(next, `the ${r.signal} request refused at ${r.at} was sent again`);
        assert.deepEqual(normalize(next.request), normalize(r.request), 'the retry carries the same batch');
        t.diagnostic(`${r.signal} batch refused with 503, sent again ${next.at - r.at} ms later`);
        assert.ok(next.at - r.at >= 900, `retried ${next.at - r.at} ms after a 503 with Retry-After: 1`);
      }
    },
  );
});
