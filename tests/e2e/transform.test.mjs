// transform.test.mjs — the `transform` processor seen from outside: the official JS SDK sends LLM
// spans (gen_ai.* attributes, a prompt holding an e-mail address and an API key) over OTLP/gRPC
// through a Collector config of the processor (a group with a condition that sets an attribute,
// redacts with replace_pattern and truncates with truncate_all); the sink must receive exactly
// those edits, on exactly the spans the condition picks, and everything else whole.
// The one idea: the expected prompt is written out here by hand (redactions applied, then cut at
// 64 bytes), so an engine that edits more, less or elsewhere shows as a difference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind } from '@opentelemetry/api';
import { withStack } from './lib/stack.mjs';
import { createSdk } from './lib/sdk.mjs';
import { scaled } from './lib/util.mjs';
import { spanAttrs } from './lib/genai.mjs';

const config = {
  processorsYaml: [
    '  transform:',
    '    error_mode: ignore',
    '    trace_statements:',
    '      - context: span',
    '        conditions:',
    '          - attributes["gen_ai.operation.name"] == "chat"',
    '        statements:',
    '          - set(attributes["llm.redacted"], true)',
    '          - replace_pattern(attributes["gen_ai.prompt"], "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\\\.[A-Za-z]{2,}", "<email>")',
    '          - replace_pattern(attributes["gen_ai.prompt"], "sk-[A-Za-z0-9]{20,}", "<api-key>")',
    '          - truncate_all(attributes, 64)',
    '',
  ].join('\n'),
  pipelineProcessors: { traces: ['transform'], metrics: [], logs: [] },
};

const PROMPT = 'Contact me at jane.doe@example.com, my key is sk-abcdefghijklmnopqrstuvwx1234 and ' +
  'please summarise the attached report in three bullet points.';
// After both redactions: "Contact me at <email>, my key is <api-key> and please summarise the
// attached report in three bullet points." (107 bytes), cut to its first 64 bytes.
const PROMPT_OUT = 'Contact me at <email>, my key is <api-key> and please summarise ';

const CHAT = {
  'gen_ai.operation.name': 'chat',
  'gen_ai.provider.name': 'openai',
  'gen_ai.request.model': 'gpt-4o-mini',
  'gen_ai.usage.input_tokens': 42,
  'gen_ai.usage.output_tokens': 7,
  'gen_ai.request.temperature': 0.2,
  'gen_ai.prompt': PROMPT,
};
const EMBED = {
  'gen_ai.operation.name': 'embeddings',
  'gen_ai.provider.name': 'openai',
  'gen_ai.request.model': 'text-embedding-3-small',
  'gen_ai.usage.input_tokens': 12,
  'gen_ai.prompt': PROMPT,
};

test('transform: an LLM span is marked, redacted and truncated; other spans arrive whole', async () => {
  await withStack({ config }, async ({ sink, llm }) => {
    const sdk = createSdk({ url: llm.url, signals: ['traces'] });
    try {
      const tracer = sdk.tracerProvider.getTracer('llm-gateway', '1.0.0');
      tracer.startSpan('chat gpt-4o-mini', { kind: SpanKind.CLIENT, attributes: CHAT }).end();
      tracer.startSpan('embeddings text-embedding-3-small', { kind: SpanKind.CLIENT, attributes: EMBED }).end();
      await sdk.tracerProvider.forceFlush();

      const names = ['chat gpt-4o-mini', 'embeddings text-embedding-3-small'];
      const got = await sink.waitFor((s) => {
        const m = new Map(s.spans().map((a) => [a.span.name, a]));
        return names.every((n) => m.has(n)) ? m : null;
      }, scaled(15000));
      assert.ok(got, 'spans never arrived');

      const chat = spanAttrs(got.get('chat gpt-4o-mini'));
      assert.equal(chat.values['llm.redacted'], true);
      assert.equal(chat.types['llm.redacted'], 'bool_value');
      assert.equal(chat.values['gen_ai.prompt'], PROMPT_OUT);
      assert.doesNotMatch(chat.values['gen_ai.prompt'], /@|sk-/);
      // every other attribute exactly as sent, with its type
      for (const [k, v] of Object.entries(CHAT)) {
        if (k === 'gen_ai.prompt') continue;
        assert.equal(chat.values[k], v, k);
      }
      assert.equal(chat.types['gen_ai.usage.input_tokens'], 'int_value');
      assert.equal(chat.types['gen_ai.request.temperature'], 'double_value');
      assert.equal(Object.keys(chat.values).length, Object.keys(CHAT).length + 1);

      // the condition does not hold: nothing of this span is edited
      const embed = spanAttrs(got.get('embeddings text-embedding-3-small'));
      assert.deepEqual(embed.values, EMBED);
      assert.equal(embed.types['gen_ai.usage.input_tokens'], 'int_value');

      // the span itself (kind, ids, scope) is untouched
      const c = got.get('chat gpt-4o-mini');
      assert.equal(c.span.kind, 3); // SPAN_KIND_CLIENT
      assert.equal(c.scope?.name, 'llm-gateway');
      assert.doesNotMatch(llm.log(), /failed to execute/);
    } finally {
      await sdk.tracerProvider.shutdown();
    }
  });
});
