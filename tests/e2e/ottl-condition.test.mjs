// ottl-condition.test.mjs — tail_sampling's ottl_condition policy with real LLM traces: the
// OpenTelemetry JS SDK emits gateway traces (a server span and an LLM client span each), and a
// policy keeps the traces whose LLM call used more than 1000 input tokens.
// The one idea: the SDK's in-memory exporter says exactly which spans each trace had, so the test
// checks that every kept trace arrived whole and unchanged and that no other trace arrived, with
// the policy's counters agreeing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, context, trace } from '@opentelemetry/api';
import { withStack } from './lib/stack.mjs';
import { createSdk } from './lib/sdk.mjs';
import { tsConfig, waitMetric, tsMetric } from './lib/tailsampling.mjs';
import { hex, scaled, sleep } from './lib/util.mjs';

const TOKENS = [120, 999, 1000, 1001, 4096, 30, 2500, 800];

test('tail_sampling ottl_condition: traces whose LLM span used more than 1000 input tokens are kept whole, the others dropped', async () => {
  const config = tsConfig({
    decisionWait: `${scaled(400)}ms`,
    policies: [
      {
        name: 'big-prompts',
        type: 'ottl_condition',
        ottl_condition: {
          error_mode: 'ignore',
          span: [
            'attributes["gen_ai.usage.input_tokens"] > 1000 and instrumentation_scope.name == "LLMProxy.LLM"',
          ],
        },
      },
    ],
  });
  await withStack({ config }, async ({ sink, llm }) => {
    const sdk = createSdk({ url: llm.url, signals: ['traces'] });
    try {
      const gw = sdk.tracerProvider.getTracer('llm-gateway.http', '1.0.0');
      const llmTracer = sdk.tracerProvider.getTracer('LLMProxy.LLM', '1.0.0');
      const traceOf = new Map(); // trace id -> input tokens
      for (const tokens of TOKENS) {
        const root = gw.startSpan('POST /v1/chat/completions', { kind: SpanKind.SERVER, attributes: { 'http.route': '/v1/chat/completions' } });
        const ctx = trace.setSpan(context.active(), root);
        const call = llmTracer.startSpan(
          'chat gpt-4o',
          {
            kind: SpanKind.CLIENT,
            attributes: {
              'gen_ai.operation.name': 'chat',
              'gen_ai.provider.name': 'openai',
              'gen_ai.request.model': 'gpt-4o',
              'gen_ai.usage.input_tokens': tokens,
              'gen_ai.usage.output_tokens': 42,
            },
          },
          ctx,
        );
        call.end();
        root.end();
        traceOf.set(root.spanContext().traceId, tokens);
      }
      await sdk.tracerProvider.forceFlush();
      const kept = [...traceOf].filter(([, t]) => t > 1000).map(([id]) => id).sort();
      assert.equal(kept.length, 3);
      assert.equal(await waitMetric(llm, 'global_count_traces_sampled', {}, (v) => v >= TOKENS.length), TOKENS.length);
      await sink.waitFor((s) => s.spans().length >= kept.length * 2, scaled(10000));
      await sleep(scaled(300));
      const arrived = sink.spans();
      const arrivedTraces = [...new Set(arrived.map((a) => hex(a.span.trace_id)))].sort();
      assert.deepEqual(arrivedTraces, kept, 'exactly the traces with more than 1000 input tokens');
      // each kept trace whole: both spans, once, with what the SDK produced
      const produced = sdk.memSpans.getFinishedSpans();
      for (const id of kept) {
        const want = produced.filter((s) => s.spanContext().traceId === id);
        const got = arrived.filter((a) => hex(a.span.trace_id) === id);
        assert.equal(got.length, 2, `trace ${id}: 2 spans`);
        assert.deepEqual(got.map((a) => hex(a.span.span_id)).sort(), want.map((s) => s.spanContext().spanId).sort());
        const call = got.find((a) => a.span.name === 'chat gpt-4o');
        assert.equal(call.scope.name, 'LLMProxy.LLM');
        const attrs = Object.fromEntries(call.span.attributes.map((kv) => [kv.key, kv.value]));
        assert.equal(Number(attrs['gen_ai.usage.input_tokens'].int_value), traceOf.get(id));
        assert.equal(attrs['gen_ai.request.model'].string_value, 'gpt-4o');
        assert.equal(call.span.attributes.length, 5, 'no attribute added or lost');
      }
      assert.equal(await tsMetric(llm, 'count_traces_sampled', { policy: 'big-prompts', sampled: 'true' }), 3);
      assert.equal(await tsMetric(llm, 'count_traces_sampled', { policy: 'big-prompts', sampled: 'false' }), 5);
      assert.equal(await tsMetric(llm, 'sampling_policy_evaluation_error'), 0);
    } finally {
      await sdk.tracerProvider.shutdown();
    }
  });
});
