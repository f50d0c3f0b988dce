// gen-ai-normalizer.test.mjs — the `gen_ai_normalizer` processor seen from outside: the official
// JS SDK sends spans as an OpenInference instrumentation writes them (llm.model_name,
// llm.token_count.*, openinference.span.kind, ...) and as OpenLLMetry writes them, over OTLP/gRPC
// through a Collector config of the processor; the sink receives the gen_ai.* names the contrib
// processor's tables give them.
// The one idea: the expected attributes are written out here by hand from that processor's
// documented tables, so a change of the engine's rows that would drift from it fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind } from '@opentelemetry/api';
import { withStack } from './lib/stack.mjs';
import { createSdk } from './lib/sdk.mjs';
import { scaled } from './lib/util.mjs';
import { spanAttrs } from './lib/genai.mjs';

const config = {
  processorsYaml: [
    '  gen_ai_normalizer:',
    '    sources:',
    '      - name: openinference',
    '        remove_originals: true',
    '      - name: openllmetry',
    '',
  ].join('\n'),
  pipelineProcessors: { traces: ['gen_ai_normalizer'], metrics: [], logs: [] },
};

test('gen_ai_normalizer: OpenInference and OpenLLMetry spans arrive with gen_ai.* names', async () => {
  await withStack({ config }, async ({ sink, llm }) => {
    const sdk = createSdk({ url: llm.url, signals: ['traces'] });
    try {
      const tracer = sdk.tracerProvider.getTracer('openinference.instrumentation.openai', '0.1.0');
      const oi = tracer.startSpan('ChatCompletion', {
        kind: SpanKind.INTERNAL,
        attributes: {
          'openinference.span.kind': 'LLM',
          'llm.model_name': 'gpt-4o-mini',
          'llm.provider': 'openai',
          'llm.system': 'openai',
          'llm.token_count.prompt': 21,
          'llm.token_count.completion': 9,
          'session.id': 'conv-7',
          'llm.input_messages.0.message.role': 'user',
          'llm.input_messages.0.message.content': 'hi',
        },
      });
      oi.end();
      const tool = tracer.startSpan('search', {
        attributes: { 'openinference.span.kind': 'TOOL', 'tool.name': 'search', 'gen_ai.tool.name': 'preset' },
      });
      tool.end();
      const oll = sdk.tracerProvider.getTracer('opentelemetry.instrumentation.openai.v1', '0.1.0').startSpan('openai.chat', {
        kind: SpanKind.CLIENT,
        attributes: {
          'llm.request.type': 'chat',
          'llm.request.model': 'gpt-4o',
          'llm.usage.prompt_tokens': '30',
          'llm.response.finish_reason': 'stop',
          'traceloop.entity.name': 'joke_agent',
        },
      });
      oll.end();
      await sdk.tracerProvider.forceFlush();

      const names = ['ChatCompletion', 'search', 'openai.chat'];
      const got = await sink.waitFor((s) => {
        const m = new Map(s.spans().map((a) => [a.span.name, a]));
        return names.every((n) => m.has(n)) ? m : null;
      }, scaled(15000));
      assert.ok(got, 'spans never arrived');

      const a = spanAttrs(got.get('ChatCompletion'));
      assert.equal(a.values['gen_ai.operation.name'], 'chat');
      assert.equal(a.values['gen_ai.request.model'], 'gpt-4o-mini');
      assert.equal(a.values['gen_ai.provider.name'], 'openai');
      assert.equal(a.values['gen_ai.usage.input_tokens'], 21);
      assert.equal(a.types['gen_ai.usage.input_tokens'], 'int_value');
      assert.equal(a.values['gen_ai.usage.output_tokens'], 9);
      assert.equal(a.values['gen_ai.conversation.id'], 'conv-7');
      for (const k of ['openinference.span.kind', 'llm.model_name', 'llm.provider', 'llm.token_count.prompt', 'session.id'])
        assert.equal(a.values[k], undefined, `${k} removed (remove_originals)`);
      // Not in the source's table.
      assert.equal(a.values['llm.system'], 'openai');
      // The flattened messages rebuilt as the Collector writes them; originals removed.
      assert.equal(a.values['gen_ai.input.messages'], '[{"role":"user","parts":[{"type":"text","content":"hi"}]}]');
      assert.equal(a.values['llm.input_messages.0.message.content'], undefined);

      const t = spanAttrs(got.get('search'));
      assert.equal(t.values['gen_ai.operation.name'], 'execute_tool');
      assert.equal(t.values['gen_ai.tool.name'], 'preset', 'overwrite: false keeps the target on the span');
      assert.equal(t.values['tool.name'], 'search', 'an original not written stays');

      const o = spanAttrs(got.get('openai.chat'));
      assert.equal(o.values['gen_ai.operation.name'], 'chat');
      assert.equal(o.values['gen_ai.request.model'], 'gpt-4o');
      assert.equal(o.values['gen_ai.usage.input_tokens'], 30);
      assert.equal(o.types['gen_ai.usage.input_tokens'], 'int_value');
      assert.equal(o.types['gen_ai.response.finish_reasons'], 'array_value');
      assert.equal(o.values['gen_ai.agent.name'], 'joke_agent');
      assert.equal(o.values['llm.request.model'], 'gpt-4o', 'openllmetry keeps originals by default');
      assert.doesNotMatch(llm.log(), /not rebuilt/, 'nothing left to warn about');
    } finally {
      await sdk.tracerProvider.shutdown();
    }
  });
});
