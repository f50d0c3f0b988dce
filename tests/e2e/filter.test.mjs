// filter.test.mjs — the `filter` processor seen from outside: the official JS SDK, as the LLM
// gateway, sends LLM client spans and the HTTP server spans of its own routes, among them the
// load balancer's `/health` probes, over OTLP/gRPC; llmotlp runs
//   filter: traces: span: ['attributes["http.route"] == "/health"']
// and a real OTLP sink receives the rest.
// The one idea: the truth is the SDK's own in-memory copy of every span; the expected set is
// that copy minus the spans whose http.route is /health, and every span of it must arrive once
// and whole (IDs, attributes with their types, events, resource, scope), nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind } from '@opentelemetry/api';
import { withStack } from './lib/stack.mjs';
import { createSdk, shutdownSdk } from './lib/sdk.mjs';
import { expectedSpans, assertSpansMatch, attrMap } from './lib/compare.mjs';
import { scrape, sumOf } from './lib/prometheus.mjs';
import { scaled } from './lib/util.mjs';

const FILTER = [
  '  filter/health:',
  '    error_mode: ignore',
  '    traces:',
  '      span:',
  `        - 'attributes["http.route"] == "/health"'`,
].join('\n');

/** Emits `rounds` of: a /health probe, a /v1/chat/completions server span with an LLM client child, a /metrics scrape. */
function emit(sdk, rounds) {
  const tracer = sdk.tracerProvider.getTracer('LLMProxy.HTTP', '1.0.0');
  const llm = sdk.tracerProvider.getTracer('LLMProxy.LLM', '1.0.0');
  let health = 0;
  for (let i = 0; i < rounds; i++) {
    const probe = tracer.startSpan('GET /health', {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': 'GET', 'http.route': '/health', 'url.path': '/health', 'http.response.status_code': 200 },
    });
    probe.end();
    health++;
    const server = tracer.startSpan('POST /v1/chat/completions', {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': 'POST', 'http.route': '/v1/chat/completions', 'http.response.status_code': 200 },
    });
    const call = llm.startSpan(`chat gpt-4o-mini ${i}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.usage.input_tokens': 100 + i,
        'gen_ai.usage.output_tokens': 20 + i, 'gen_ai.request.temperature': 0.5,
        'gen_ai.request.stop_sequences': ['\n\n'],
      },
    });
    call.addEvent('gen_ai.choice', { index: 0, finish_reason: 'stop' });
    call.end();
    server.end();
    // A route that only looks like health: it must stay.
    const near = tracer.startSpan('GET /healthz', {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': 'GET', 'http.route': '/healthz' },
    });
    near.end();
  }
  return health;
}

test('filter: /health server spans are dropped, every other span arrives whole', async () => {
  const config = {
    processorsYaml: FILTER + '\n',
    pipelineProcessors: { traces: ['filter/health'], metrics: [], logs: [] },
  };
  await withStack({ config }, async ({ sink, llm }) => {
    const sdk = createSdk({ url: llm.url, signals: ['traces'] });
    const health = emit(sdk, 25);
    assert.deepEqual(await shutdownSdk(sdk), [], 'llmotlp refused some SDK exports');

    const all = expectedSpans(sdk.sent.spans);
    const isHealth = (s) => attrMap(s.span.attributes)['http.route']?.value === '/health';
    const want = all.filter((s) => !isHealth(s));
    assert.equal(all.length - want.length, health, 'the SDK produced the /health spans');
    assert.equal(want.length, 25 * 3);

    await sink.waitFor((s) => s.spans().length >= want.length, scaled(15000));
    // A little longer, so a late /health span or a duplicate would be seen too.
    await new Promise((r) => setTimeout(r, scaled(500)));
    assert.equal(sink.spans().filter(isHealth).length, 0, 'a /health span got through');
    assertSpansMatch(sink.spans(), want);

    const m = await scrape(llm.metricsUrl);
    assert.equal(sumOf(m.samples, 'otelcol_processor_filter_spans_filtered', { processor: 'filter/health' }), health);
  });
});
