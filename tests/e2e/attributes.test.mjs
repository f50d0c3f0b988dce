// attributes.test.mjs — the `attributes` and `resource` processors seen from outside: the
// official JS SDK, as an LLM gateway, sends LLM spans carrying user.email over OTLP/gRPC through
// [attributes, resource] to a real OTLP sink. attributes hashes user.email (SHA-256 hex, as the
// Collector does), inserts llm.gateway and deletes debug.prompt; resource upserts
// deployment.environment.
// The one idea: the expected spans are the SDK's own in-memory copy with the same three edits
// applied here (the hash computed by node's crypto), so everything else about every span —
// IDs, times, kind, status, events, the other attributes with their types — must arrive whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import { withStack } from './lib/stack.mjs';
import { createSdk, shutdownSdk } from './lib/sdk.mjs';
import { expectedSpans, spanKey, normalize, attrMap } from './lib/compare.mjs';
import { scaled } from './lib/util.mjs';

const PROCESSORS_YAML = [
  '  attributes:',
  '    actions:',
  '      - key: user.email',
  '        action: hash',
  '      - key: llm.gateway',
  '        value: llmotlp-e2e',
  '        action: insert',
  '      - key: debug.prompt',
  '        action: delete',
  '  resource:',
  '    attributes:',
  '      - key: deployment.environment',
  '        value: production',
  '        action: upsert',
].join('\n') + '\n';

const sha256 = (s) => crypto.createHash('sha256').update(s, 'utf8').digest('hex');

/** The same edits, on a decoded span item from the SDK's copy: attributes and resource maps. */
function expectedAttrs(item) {
  const attrs = attrMap(item.span.attributes);
  if (attrs['user.email']) attrs['user.email'] = { type: 'string_value', value: sha256(attrs['user.email'].value) };
  if (!attrs['llm.gateway']) attrs['llm.gateway'] = { type: 'string_value', value: 'llmotlp-e2e' };
  delete attrs['debug.prompt'];
  const res = attrMap(item.resource?.attributes);
  res['deployment.environment'] = { type: 'string_value', value: 'production' };
  return { attrs, res };
}

/** Drops zero scalars: proto3 cannot tell them from absent, and a re-encoded request (one the
 * processors edited) omits them where the SDK wrote dropped_*_count: 0. Applied to both sides. */
function dropZeros(v) {
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return v.map(dropZeros);
  if (v && typeof v === 'object') {
    const out = {};
    for (const [k, x] of Object.entries(v)) if (x !== 0 && x !== '0') out[k] = dropZeros(x);
    return out;
  }
  return v;
}

/** A span item without its attribute lists (compared as maps instead: order is pdata's). */
function rest(item) {
  const span = { ...item.span, attributes: undefined };
  const resource = { ...item.resource, attributes: undefined };
  return normalize(dropZeros({ resource, scope: item.scope, span }));
}

test('attributes + resource: user.email hashed, llm.gateway inserted, debug.prompt deleted, deployment.environment upserted, spans otherwise whole', async () => {
  const config = { processorsYaml: PROCESSORS_YAML, pipelineProcessors: { traces: ['attributes', 'resource'], metrics: [], logs: [] } };
  await withStack({ config }, async ({ sink, llm }) => {
    const sdk = createSdk({ url: llm.url, signals: ['traces'] });
    try {
      const tracer = sdk.tracerProvider.getTracer('LLMProxy.LLM', '1.0.0');
      const specs = [
        { name: 'chat gpt-4o', attributes: { 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 1200, 'user.email': 'alice@example.com', 'debug.prompt': 'tell me a secret' } },
        { name: 'chat claude', attributes: { 'gen_ai.request.model': 'claude-sonnet-4-5', 'user.email': 'bob@example.org', 'llm.gateway': 'upstream-set' } },
        { name: 'embeddings', attributes: { 'gen_ai.operation.name': 'embeddings', 'gen_ai.usage.input_tokens': 7 } },
      ];
      for (const s of specs) {
        const span = tracer.startSpan(s.name, { kind: SpanKind.CLIENT, attributes: s.attributes });
        span.addEvent('gen_ai.choice', { index: 0 });
        span.end();
      }
      await sdk.tracerProvider.forceFlush();
      const want = expectedSpans(sdk.memSpans.getFinishedSpans());
      assert.equal(want.length, specs.length);
      const got = await sink.waitFor((s) => (s.spans().length >= want.length ? s.spans() : null), scaled(15000));
      assert.ok(got, `spans never arrived (${sink.spans().length} of ${want.length})`);
      assert.equal(got.length, want.length, 'each span arrived once');
      const byKey = new Map(got.map((g) => [spanKey(g), g]));
      for (const w of want) {
        const g = byKey.get(spanKey(w));
        assert.ok(g, `span ${w.span.name} missing`);
        const exp = expectedAttrs(w);
        assert.deepStrictEqual(attrMap(g.span.attributes), exp.attrs, `${w.span.name}: attributes`);
        assert.deepStrictEqual(attrMap(g.resource?.attributes), exp.res, `${w.span.name}: resource`);
        assert.deepStrictEqual(rest(g), rest(w), `${w.span.name}: the rest of the span`);
      }
      // the hash is the Collector's: SHA-256 hex of the string's bytes
      const alice = attrMap(got.find((g) => g.span.name === 'chat gpt-4o').span.attributes);
      assert.equal(alice['user.email'].value, 'ff8d9819fc0e12bf0d24892e45987e249a28dce836a85cad60e28eaaa8c6d976');
      assert.equal(alice['debug.prompt'], undefined);
      // insert leaves an attribute already there
      const bob = attrMap(got.find((g) => g.span.name === 'chat claude').span.attributes);
      assert.equal(bob['llm.gateway'].value, 'upstream-set');
    } finally {
      await shutdownSdk(sdk);
    }
  });
});
