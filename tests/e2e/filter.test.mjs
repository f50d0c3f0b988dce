// filter.test.mjs — the `filter` processor seen from outside: the official JS SDK, as the LLM
// gateway, sends LLM client spans and the HTTP server spans of its own routes, among them the
// load balancer's `/health` probes, over OTLP/gRPC; llmotlp runs
//   filter: traces: span: ['attributes["http.route"] == "/health"']
// and a real OTLP sink receives the rest. The second case says the same with the Collector's
// legacy form, `spans: exclude: {match_type: regexp, span_names: ['^GET /health$']}`.
// The one idea: the truth is the SDK's own in-memory copy of every span; the expected set is
// that copy minus the spans whose http.route is /health, and every span of it must arrive once
// and whole (IDs, attributes with their types, events, resource, scope), nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind } from '@opentelemetry/api';
import { withStack } from './lib/stack.mjs';
import { createSdk, shutdownSdk } from './lib/sdk.mjs';
import { expectedSpans, assertSameItems, spanKey, attrMap } from './lib/compare.mjs';
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

/**
 * proto3 cannot tell a zero scalar from an absent one: the SDK writes some zeros (a resource's
 * dropped_attributes_count: 0) and a request re-encoded after a drop does not. Zero scalars are
 * dropped on both sides before comparing; every other field is compared as it is.
 */
function withoutZeros(v) {
  if (Array.isArray(v)) return v.map(withoutZeros);
  if (v && typeof v === 'object' && !Buffer.isBuffer(v) && !(v instanceof Uint8Array)) {
    const out = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === 0 || x === '0' || x === false || x === '') continue;
      out[k] = withoutZeros(x);
    }
    return out;
  }
  return v;
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
    assertSameItems('span', sink.spans(), want, spanKey, (s) => withoutZeros({ resource: s.resource, scope: s.scope, span: s.span }));

    const m = await scrape(llm.metricsUrl);
    assert.equal(sumOf(m.samples, 'otelcol_processor_filter_spans_filtered', { processor: 'filter/health' }), health);
  });
});

const LEGACY = [
  '  filter/legacy:',
  '    spans:',
  '      exclude:',
  '        match_type: regexp',
  '        span_names:',
  `          - '^GET /health$'`,
].join('\n');

test('filter (legacy spans.exclude, span_names regexp): GET /health spans are dropped, the rest arrive whole', async () => {
  const config = {
    processorsYaml: LEGACY + '\n',
    pipelineProcessors: { traces: ['filter/legacy'], metrics: [], logs: [] },
  };
  await withStack({ config }, async ({ sink, llm }) => {
    const sdk = createSdk({ url: llm.url, signals: ['traces'] });
    const health = emit(sdk, 20);
    assert.deepEqual(await shutdownSdk(sdk), [], 'llmotlp refused some SDK exports');

    const all = expectedSpans(sdk.sent.spans);
    // The pattern is anchored: GET /healthz stays, only the exact probe name goes.
    const isProbe = (s) => s.span.name === 'GET /health';
    const want = all.filter((s) => !isProbe(s));
    assert.equal(all.length - want.length, health);
    assert.equal(want.length, 20 * 3);

    await sink.waitFor((s) => s.spans().length >= want.length, scaled(15000));
    await new Promise((r) => setTimeout(r, scaled(500)));
    assert.equal(sink.spans().filter(isProbe).length, 0, 'a GET /health span got through');
    assertSameItems('span', sink.spans(), want, spanKey, (s) => withoutZeros({ resource: s.resource, scope: s.scope, span: s.span }));

    const m = await scrape(llm.metricsUrl);
    assert.equal(sumOf(m.samples, 'otelcol_processor_filter_spans_filtered', { processor: 'filter/legacy' }), health);
  });
});
