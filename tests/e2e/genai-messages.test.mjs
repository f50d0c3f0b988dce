// genai-messages.test.mjs — genai_semconv's message rebuilding seen from outside: the official JS
// SDK sends an OpenInference-style span and an OpenLLMetry-style span over OTLP/gRPC; the sink
// receives gen_ai.input.messages, gen_ai.output.messages and gen_ai.system_instructions.
// The one idea: the expected JSON strings are written out here by hand from the semconv message
// shapes (role, typed parts, finish_reason), not taken from the code under test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind } from '@opentelemetry/api';
import { withStack } from './lib/stack.mjs';
import { createSdk } from './lib/sdk.mjs';
import { scaled } from './lib/util.mjs';
import { spanAttrs } from './lib/genai.mjs';

const config = {
  processorsYaml: ['  genai_semconv:', '    on_violation: pass', ''].join('\n'),
  pipelineProcessors: { traces: ['genai_semconv'], metrics: [], logs: [] },
};

test('genai_semconv: OpenInference and OpenLLMetry messages arrive rebuilt', async () => {
  await withStack({ config }, async ({ sink, llm }) => {
    const sdk = createSdk({ url: llm.url, signals: ['traces'] });
    try {
      const tracer = sdk.tracerProvider.getTracer('openinference.instrumentation.openai', '0.1.0');
      tracer.startSpan('ChatCompletion', {
        kind: SpanKind.INTERNAL,
        attributes: {
          'openinference.span.kind': 'LLM',
          'llm.provider': 'google',
          'llm.model_name': 'gemini-2.5-flash',
          'llm.input_messages.0.message.role': 'system',
          'llm.input_messages.0.message.content': 'Be brief.',
          'llm.input_messages.1.message.role': 'user',
          'llm.input_messages.1.message.content': 'Say "hi"',
          'llm.output_messages.0.message.role': 'assistant',
          'llm.output_messages.0.message.tool_calls.0.tool_call.id': 'call_1',
          'llm.output_messages.0.message.tool_calls.0.tool_call.function.name': 'greet',
          'llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments': '{"who":"you"}',
          'llm.finish_reason': 'tool_calls',
        },
      }).end();
      sdk.tracerProvider.getTracer('opentelemetry.instrumentation.anthropic', '0.1.0').startSpan('anthropic.chat', {
        kind: SpanKind.CLIENT,
        attributes: {
          'llm.request.type': 'chat',
          'gen_ai.system': 'Anthropic',
          'gen_ai.request.model': 'claude-sonnet-4-5',
          'gen_ai.prompt.0.role': 'user',
          'gen_ai.prompt.0.content': '[{"type":"text","text":"Hello"}]',
          'gen_ai.completion.0.role': 'assistant',
          'gen_ai.completion.0.content': 'Hi there',
          'gen_ai.completion.0.finish_reason': 'end_turn',
        },
      }).end();
      await sdk.tracerProvider.forceFlush();

      const names = ['ChatCompletion', 'anthropic.chat'];
      const got = await sink.waitFor((s) => {
        const m = new Map(s.spans().map((a) => [a.span.name, a]));
        return names.every((n) => m.has(n)) ? m : null;
      }, scaled(15000));
      assert.ok(got, 'spans never arrived');

      const a = spanAttrs(got.get('ChatCompletion'));
      assert.equal(a.values['gen_ai.operation.name'], 'chat');
      assert.equal(a.values['gen_ai.provider.name'], 'gcp.gen_ai');
      assert.equal(a.values['gen_ai.system_instructions'], '[{"type":"text","content":"Be brief."}]');
      assert.equal(a.values['gen_ai.input.messages'], '[{"role":"user","parts":[{"type":"text","content":"Say \\"hi\\""}]}]');
      assert.equal(a.values['gen_ai.output.messages'],
        '[{"role":"assistant","parts":[{"type":"tool_call","id":"call_1","name":"greet","arguments":{"who":"you"}}],"finish_reason":"tool_calls"}]');
      assert.equal(a.values['llm.input_messages.1.message.content'], undefined, 'flattened attributes removed');

      const o = spanAttrs(got.get('anthropic.chat'));
      assert.equal(o.values['gen_ai.provider.name'], 'anthropic');
      assert.equal(o.values['gen_ai.input.messages'], '[{"role":"user","parts":[{"type":"text","content":"Hello"}]}]');
      assert.equal(o.values['gen_ai.output.messages'],
        '[{"role":"assistant","parts":[{"type":"text","content":"Hi there"}],"finish_reason":"end_turn"}]');
      assert.equal(o.values['gen_ai.prompt.0.role'], undefined, 'flattened attributes removed');
    } finally {
      await sdk.tracerProvider.shutdown();
    }
  });
});
