// pricing-out-of-the-box.test.mjs — `cost: {}` with no DB and no seeding step, as a new user
// runs it: the official JS SDK sends the clouds' spellings of priced models (Bedrock ids and
// inference profiles, Vertex @version, Gemini through gcp.vertex_ai / gcp.gen_ai, a LiteLLM
// prefix with a dated suffix), Anthropic counts with the cache apart, and OpenAI service tiers.
// The one idea: every expected amount is written here as its arithmetic from the list prices
// (pricing/prices.csv), exact to 1e-9 USD; the DB must appear at the default path under HOME
// (never the working directory); and `llmotlp pricing quote` on that DB, given the same inputs,
// must print the very amount each span got.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import { withStack } from './lib/stack.mjs';
import { createSdk } from './lib/sdk.mjs';
import { scrape, sumOf } from './lib/prometheus.mjs';
import { scaled } from './lib/util.mjs';
import { spanAttrs, pricingCli } from './lib/genai.mjs';

const SCOPE = 'LLMProxy.LLM';

// name, span attributes, quote arguments (the same inputs), expected USD (by hand)
const CASES = [
  {
    // Claude Sonnet 4.5 list price 3 / 15: 1000×3 + 200×15 = 6000 µ$
    name: 'bedrock id', attrs: { 'gen_ai.provider.name': 'aws.bedrock', 'gen_ai.request.model': 'anthropic.claude-sonnet-4-5-20250929-v1:0', 'gen_ai.usage.input_tokens': 1000, 'gen_ai.usage.output_tokens': 200 },
    quote: ['--provider', 'aws.bedrock', 'anthropic.claude-sonnet-4-5-20250929-v1:0', '--input-tokens', '1000', '--output-tokens', '200'],
    want: (1000 * 3 + 200 * 15) / 1e6,
  },
  {
    // inference profile, Haiku 4.5 1 / 5: 4000×1 + 100×5 = 4500 µ$
    name: 'bedrock profile', attrs: { 'gen_ai.provider.name': 'aws.bedrock', 'gen_ai.request.model': 'us.anthropic.claude-haiku-4-5-20251001-v1:0', 'gen_ai.usage.input_tokens': 4000, 'gen_ai.usage.output_tokens': 100 },
    quote: ['--provider', 'aws.bedrock', 'us.anthropic.claude-haiku-4-5-20251001-v1:0', '--input-tokens', '4000', '--output-tokens', '100'],
    want: (4000 * 1 + 100 * 5) / 1e6,
  },
  {
    // Vertex @version, Opus 4.5 5 / 25: 300×5 + 40×25 = 2500 µ$
    name: 'vertex claude', attrs: { 'gen_ai.provider.name': 'gcp.vertex_ai', 'gen_ai.request.model': 'claude-opus-4-5@20251101', 'gen_ai.usage.input_tokens': 300, 'gen_ai.usage.output_tokens': 40 },
    quote: ['--provider', 'gcp.vertex_ai', 'claude-opus-4-5@20251101', '--input-tokens', '300', '--output-tokens', '40'],
    want: (300 * 5 + 40 * 25) / 1e6,
  },
  {
    // Gemini 2.5 Flash through Vertex at the Gemini price 0.30 / 2.50: 10000×0.30 + 1000×2.50 = 5500 µ$
    name: 'vertex gemini', attrs: { 'gen_ai.provider.name': 'gcp.vertex_ai', 'gen_ai.request.model': 'gemini-2.5-flash', 'gen_ai.usage.input_tokens': 10000, 'gen_ai.usage.output_tokens': 1000 },
    quote: ['--provider', 'gcp.vertex_ai', 'gemini-2.5-flash', '--input-tokens', '10000', '--output-tokens', '1000'],
    want: (10000 * 0.30 + 1000 * 2.50) / 1e6,
  },
  {
    // gcp.gen_ai, Gemini 2.5 Pro 1.25 / 10: 2000×1.25 + 500×10 = 7500 µ$
    name: 'gen_ai gemini', attrs: { 'gen_ai.provider.name': 'gcp.gen_ai', 'gen_ai.request.model': 'gemini-2.5-pro', 'gen_ai.usage.input_tokens': 2000, 'gen_ai.usage.output_tokens': 500 },
    quote: ['--provider', 'gcp.gen_ai', 'gemini-2.5-pro', '--input-tokens', '2000', '--output-tokens', '500'],
    want: (2000 * 1.25 + 500 * 10) / 1e6,
  },
  {
    // LiteLLM prefix and a dated snapshot with no dated row: gpt-4.1 2 / 8: 1000×2 + 100×8 = 2800 µ$
    name: 'litellm dated', attrs: { 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'openai/gpt-4.1-2025-04-14', 'gen_ai.usage.input_tokens': 1000, 'gen_ai.usage.output_tokens': 100 },
    quote: ['--provider', 'openai', 'openai/gpt-4.1-2025-04-14', '--input-tokens', '1000', '--output-tokens', '100'],
    want: (1000 * 2 + 100 * 8) / 1e6,
  },
  {
    // Anthropic counts with the cache apart (auto guesses, says so): input 1000 + 3000 read + 500
    // written: 1000×3 + 3000×0.30 + 500×3.75 + 100×15 = 3000 + 900 + 1875 + 1500 = 7275 µ$
    name: 'anthropic native', attrs: { 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': 'claude-sonnet-4-5', 'gen_ai.usage.input_tokens': 1000, 'gen_ai.usage.output_tokens': 100, 'gen_ai.usage.cache_read.input_tokens': 3000, 'gen_ai.usage.cache_creation.input_tokens': 500 },
    quote: ['--provider', 'anthropic', 'claude-sonnet-4-5', '--input-tokens', '1000', '--output-tokens', '100', '--cached', '3000', '--cache-write', '500'],
    want: (1000 * 3 + 3000 * 0.30 + 500 * 3.75 + 100 * 15) / 1e6,
    assumption: 'cache_tokens_excluded_from_input:cache_exceeds_input',
  },
  {
    // cache not larger than input, Anthropic model: auto reads it as semconv does (included), a
    // guess said so: (2000 − 1500)×3 + 1500×0.30 + 400×15 = 1500 + 450 + 6000 = 7950 µ$
    name: 'anthropic guessed', attrs: { 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': 'claude-sonnet-4-5-20250929', 'gen_ai.usage.input_tokens': 2000, 'gen_ai.usage.output_tokens': 400, 'gen_ai.usage.cache_read.input_tokens': 1500 },
    quote: ['--provider', 'anthropic', 'claude-sonnet-4-5-20250929', '--input-tokens', '2000', '--output-tokens', '400', '--cached', '1500'],
    want: ((2000 - 1500) * 3 + 1500 * 0.30 + 400 * 15) / 1e6,
    assumption: 'cache_tokens_included_in_input:semconv',
  },
  {
    // OpenAI priority tier 1.7× (gpt-4o 2.5 / 10): (1000×2.5 + 100×10) × 1.7 = 5950 µ$
    name: 'openai priority', attrs: { 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 1000, 'gen_ai.usage.output_tokens': 100, 'openai.response.service_tier': 'priority' },
    quote: ['--provider', 'openai', 'gpt-4o', '--input-tokens', '1000', '--output-tokens', '100', '--service-tier', 'priority'],
    want: ((1000 * 2.5 + 100 * 10) * 1.7) / 1e6,
  },
  {
    // o3 flex 0.5× (2 / 8): (1000×2 + 1000×8) × 0.5 = 5000 µ$
    name: 'openai flex', attrs: { 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'o3', 'gen_ai.usage.input_tokens': 1000, 'gen_ai.usage.output_tokens': 1000, 'openai.response.service_tier': 'flex' },
    quote: ['--provider', 'openai', 'o3', '--input-tokens', '1000', '--output-tokens', '1000', '--service-tier', 'flex'],
    want: ((1000 * 2 + 1000 * 8) * 0.5) / 1e6,
  },
];

test('cost: {} prices the clouds\' names out of the box, as `pricing quote` does', async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'llmotlp-home-'));
  const cwd = process.cwd();
  const defaultDb = path.join(home, '.local', 'share', 'llmotlp', 'llmotlp.db');
  const config = {
    processorsYaml: '  cost: {}\n',
    pipelineProcessors: { traces: ['cost'], metrics: [], logs: [] },
    env: { HOME: home, XDG_DATA_HOME: '', LLMOTLP_PRICING_DB: '' },
  };
  try {
    await withStack({ config }, async ({ sink, llm }) => {
      assert.ok(fs.existsSync(defaultDb), `the DB was created at the default path ${defaultDb}`);
      const sdk = createSdk({ url: llm.url, signals: ['traces'] });
      try {
        const tracer = sdk.tracerProvider.getTracer(SCOPE, '1.0.0');
        for (const c of CASES) tracer.startSpan(c.name, { kind: SpanKind.CLIENT, attributes: c.attrs }).end();
        tracer.startSpan('unknown cloud', { kind: SpanKind.CLIENT, attributes: { 'gen_ai.provider.name': 'example.cloud', 'gen_ai.request.model': 'mystery-model-1', 'gen_ai.usage.input_tokens': 5 } }).end();
        await sdk.tracerProvider.forceFlush();
        const names = [...CASES.map((c) => c.name), 'unknown cloud'];
        const got = await sink.waitFor((s) => {
          const m = new Map(s.spans().map((a) => [a.span.name, a]));
          return names.every((n) => m.has(n)) ? m : null;
        }, scaled(15000));
        assert.ok(got, 'every span arrived');
        for (const c of CASES) {
          const a = spanAttrs(got.get(c.name));
          const amount = a.values['gen_ai.usage.cost.amount'];
          assert.ok(Math.abs(amount - c.want) <= 1e-9, `${c.name}: cost ${amount}, by hand ${c.want}`);
          assert.equal(a.values['gen_ai.usage.cost.source'], 'local', `${c.name}: source`);
          assert.equal(a.values['llmotlp.cost.assumption'], c.assumption, `${c.name}: assumption`);
          // the same inputs through `llmotlp pricing quote`: the very same amount
          const q = JSON.parse(pricingCli(defaultDb, ['--json', 'quote', ...c.quote]).stdout);
          assert.equal(q.cost, Number(q.cost.toFixed(9)), `${c.name}: quote prints 9 decimals`);
          assert.ok(Math.abs(q.cost - amount) <= 1e-9, `${c.name}: quote ${q.cost}, service ${amount}`);
          assert.equal(q.assumption ?? undefined, c.assumption, `${c.name}: quote's assumption`);
        }
        const unk = spanAttrs(got.get('unknown cloud'));
        assert.equal(unk.values['llmotlp.cost.unpriced'], true);
        const m = await scrape(llm.metricsUrl);
        assert.equal(sumOf(m.samples, 'llmotlp_cost_unpriced_spans', { processor: 'cost', provider: 'example.cloud', model: 'mystery-model-1' }), 1);
        assert.equal(sumOf(m.samples, 'llmotlp_cost_assumed_spans', { processor: 'cost', assumption: 'cache_tokens_included_in_input:semconv' }), 1);
        assert.equal(sumOf(m.samples, 'llmotlp_cost_assumed_spans', { processor: 'cost', assumption: 'cache_tokens_excluded_from_input:cache_exceeds_input' }), 1);
      } finally {
        await sdk.tracerProvider.shutdown();
      }
    });
    assert.ok(!fs.existsSync(path.join(cwd, 'pricing', 'llmotlp.db')) || fs.statSync(path.join(cwd, 'pricing', 'llmotlp.db')).mtimeMs < Date.now() - 600000,
      'nothing was created in the working directory');
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});
