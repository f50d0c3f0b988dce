// genai-content.test.mjs — the `genai_content` processor seen from outside: the official JS SDK
// sends LLM spans and GenAI events carrying personal data and secrets over OTLP/gRPC; the sink
// must receive every one of them replaced by its marker, everything else as it was sent, and
// llmotlp's own log (at debug level) must not hold any of the values.
// The one idea: the expected strings are written here by hand, whole, so a test passes only when
// the service rewrote exactly the secret parts and nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind } from '@opentelemetry/api';
import { withStack } from './lib/stack.mjs';
import { createSdk } from './lib/sdk.mjs';
import { scrape, sumOf } from './lib/prometheus.mjs';
import { scaled } from './lib/util.mjs';
import { spanAttrs } from './lib/genai.mjs';
import { attrMap } from './lib/compare.mjs';

const config = {
  processorsYaml: '  genai_content: {}\n',
  pipelineProcessors: { traces: ['genai_content'], metrics: [], logs: ['genai_content'] },
};

const SECRETS = [
  'jane.doe@example.com', '+33 6 12 34 56 78', '4111 1111 1111 1111', 'sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z',
  'bob@example.org', '10.20.30.40', 'AKIAIOSFODNN7EXAMPLE', 'DE89 3704 0044 0532 0130 00',
  'ghp_aBcD1234eFgH5678iJkL9012mNoP3456qRsT', 'eyJzdWIiOiIxMjM0NTY3ODkwIn0', '555-123-4567', 'fe80::1',
];

const msg = (role, text) => JSON.stringify([{ role, parts: [{ type: 'text', content: text }] }]);

test('genai_content: PII and secrets in messages, tool calls, legacy attributes and events are redacted; nothing else changes', async () => {
  await withStack({ config }, async ({ sink, llm }) => {
    const sdk = createSdk({ url: llm.url, signals: ['traces'] });
    try {
      const tracer = sdk.tracerProvider.getTracer('LLMProxy.LLM', '1.0.0');
      const span = tracer.startSpan('chat gpt-4o', {
        kind: SpanKind.CLIENT,
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.request.model': 'gpt-4o',
          'gen_ai.usage.input_tokens': 1520,
          'gen_ai.input.messages': msg('user', 'I am jane.doe@example.com, call +33 6 12 34 56 78, card 4111 1111 1111 1111, key sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z'),
          'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: 'Done at 2024-01-15T10:30:00Z, 42 tokens.' }], finish_reason: 'stop' }]),
          'gen_ai.system_instructions': '{not json: AKIAIOSFODNN7EXAMPLE',
          'gen_ai.tool.call.arguments': '{"to":"bob@example.org","host":"10.20.30.40"}',
          'gen_ai.prompt.0.content': 'token ghp_aBcD1234eFgH5678iJkL9012mNoP3456qRsT',
          'input.value': 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N',
          'server.address': 'api.openai.com',
        },
      });
      span.addEvent('gen_ai.user.message', { content: 'my IBAN is DE89 3704 0044 0532 0130 00', 'gen_ai.system': 'openai' });
      span.end();
      await sdk.tracerProvider.forceFlush();

      const got = await sink.waitFor((s) => s.spans().find((a) => a.span.name === 'chat gpt-4o'), scaled(15000));
      assert.ok(got, 'the span arrived');
      const a = spanAttrs(got);
      assert.deepEqual(a.values, {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': 1520,
        'gen_ai.input.messages': msg('user', 'I am <redacted:email>, call <redacted:phone>, card <redacted:payment_card>, key <redacted:openai_key>'),
        'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: 'Done at 2024-01-15T10:30:00Z, 42 tokens.' }], finish_reason: 'stop' }]),
        'gen_ai.tool.call.arguments': '{"to":"<redacted:email>","host":"<redacted:ipv4>"}',
        'gen_ai.prompt.0.content': 'token <redacted:github_token>',
        'input.value': 'Authorization: Bearer <redacted:jwt>',
        'server.address': 'api.openai.com',
      });
      const ev = got.span.events.find((e) => e.name === 'gen_ai.user.message');
      const evAttrs = attrMap(ev.attributes);
      assert.equal(evAttrs.content.value, 'my IBAN is <redacted:iban>');
      assert.equal(evAttrs['gen_ai.system'].value, 'openai');

      const m = await scrape(llm.metricsUrl);
      const red = (d) => sumOf(m.samples, 'llmotlp_genai_content_redactions', { processor: 'genai_content', detector: d });
      assert.equal(red('email'), 2);
      assert.equal(red('phone'), 1);
      assert.equal(red('payment_card'), 1);
      assert.equal(red('openai_key'), 1);
      assert.equal(red('iban'), 1);
      assert.equal(red('jwt'), 1);
      assert.equal(sumOf(m.samples, 'llmotlp_genai_content_unparsable_dropped', { processor: 'genai_content', family: 'system_instructions' }), 1);
      assert.equal(sumOf(m.samples, 'llmotlp_genai_content_values', { processor: 'genai_content', family: 'legacy_attributes', action: 'redact' }), 3);

      const log = llm.log();
      assert.match(log, /gen_ai\.system_instructions/, 'the fail-closed drop is logged');
      for (const s of SECRETS) assert.ok(!log.includes(s), `the log holds ${s}`);
    } finally {
      await sdk.tracerProvider.shutdown();
    }
  });
});

test('genai_content: the body of a deprecated gen_ai.*.message event, on a log record, is redacted', async () => {
  await withStack({ config }, async ({ sink, llm }) => {
    const sdk = createSdk({ url: llm.url, signals: ['logs'] });
    try {
      const logger = sdk.loggerProvider.getLogger('LLMProxy.LLM', '1.0.0');
      logger.emit({
        body: { content: 'call me on 555-123-4567 or at fe80::1', role: 'user' },
        attributes: { 'event.name': 'gen_ai.user.message', 'gen_ai.system': 'openai' },
      });
      logger.emit({ body: 'plain application log 555-123-4567', attributes: { 'app.step': 'done' } });
      await sdk.loggerProvider.forceFlush();
      const recs = await sink.waitFor((s) => (s.logRecords().length >= 2 ? s.logRecords() : null), scaled(15000));
      assert.ok(recs, 'both records arrived');
      const ev = recs.find((r) => attrMap(r.record.attributes)['event.name']);
      const body = attrMap(ev.record.body.kvlist_value.values);
      assert.equal(body.content.value, 'call me on <redacted:phone> or at <redacted:ipv6>');
      assert.equal(body.role.value, 'user');
      const plain = recs.find((r) => !attrMap(r.record.attributes)['event.name']);
      assert.equal(plain.record.body.string_value, 'plain application log 555-123-4567', 'a log that is not a GenAI event is not content');
      const log = llm.log();
      for (const s of ['555-123-4567', 'fe80::1']) assert.ok(!log.includes(s), `the log holds ${s}`);
    } finally {
      await sdk.loggerProvider.shutdown();
    }
  });
});
