// genai-cost.test.mjs — the `genai_semconv` and `cost` processors seen from outside: the official
// JS SDK, as the seed's gateway (scope LLMProxy.LLM), sends LLM spans over OTLP/gRPC; the sink
// receives them with current GenAI names and a cost on every priced span.
// The one idea: every expected amount is computed here, from the rows of pricing/prices.csv that
// the test's own DB was seeded with through `llmotlp pricing import`, and a price changed with
// `llmotlp pricing set` while the service runs must reach the spans that end after it (polled:
// no timing assertion) while the spans that ended before keep the old price.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import { withStack } from './lib/stack.mjs';
import { createSdk } from './lib/sdk.mjs';
import { scrape, sumOf } from './lib/prometheus.mjs';
import { scaled, sleep } from './lib/util.mjs';
import { seedDb, readCsv, SEED_CSV, seedPrice, expectedCost, spanAttrs, assertAmount, pricingCli } from './lib/genai.mjs';

const SCOPE = 'LLMProxy.LLM';

function tempDb() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmotlp-cost-'));
  return { dir, db: path.join(dir, 'prices.db') };
}

function costConfig(db, processors, { reload = '500ms' } = {}) {
  const yaml = [
    '  genai_semconv: {}',
    '  cost:',
    `    database: ${db}`,
    '    create_database: false',
    `    reload_interval: ${reload}`,
    // these spans follow semconv for Anthropic too (input includes the cache): said so, since
    // auto would read Anthropic counts as native (pricing-out-of-the-box.test.mjs covers auto)
    '    cache_tokens_in_input_by_provider: {anthropic: included}',
  ].join('\n');
  return { processorsYaml: yaml + '\n', pipelineProcessors: { traces: processors, metrics: [], logs: [] } };
}

/** Emits each {name, kind, attributes, end (ms, default now)} as an ended span of scope LLMProxy.LLM and flushes. */
async function emit(sdk, specs) {
  const tracer = sdk.tracerProvider.getTracer(SCOPE, '1.0.0');
  for (const s of specs) {
    const opts = { kind: s.kind ?? SpanKind.CLIENT, attributes: s.attributes };
    if (s.end !== undefined) opts.startTime = s.end - 500;
    const span = tracer.startSpan(s.name, opts);
    span.end(s.end);
  }
  await sdk.tracerProvider.forceFlush();
}

async function arrivedByName(sink, names) {
  const got = await sink.waitFor(
    (s) => {
      const byName = new Map(s.spans().map((a) => [a.span.name, a]));
      return names.every((n) => byName.has(n)) ? byName : null;
    },
    scaled(15000),
  );
  assert.ok(got, `spans never arrived: ${names.filter((n) => !sink.spans().some((a) => a.span.name === n))}`);
  for (const n of names)
    assert.equal(sink.spans().filter((a) => a.span.name === n).length, 1, `span ${n} arrived once`);
  return got;
}

function assertLocalCost(a, want, what) {
  assertAmount(a.values['gen_ai.usage.cost.amount'], want, what);
  assert.equal(a.types['gen_ai.usage.cost.amount'], 'double_value', `${what}: amount is a double`);
  assert.equal(a.values['gen_ai.usage.cost.currency'], 'USD', `${what}: currency`);
  assert.equal(a.values['gen_ai.usage.cost.source'], 'local', `${what}: source`);
  assert.equal(a.values['llmotlp.cost.unpriced'], undefined, `${what}: not flagged unpriced`);
}

const NO_COST = ['gen_ai.usage.cost.amount', 'gen_ai.usage.cost.currency', 'gen_ai.usage.cost.source'];

// ---- 1 ---------------------------------------------------------------------------------------

test('cost: current GenAI names through [cost] are priced from the seed prices', async () => {
  const { dir, db } = tempDb();
  seedDb(db);
  const seed = readCsv(SEED_CSV);
  const gpt4o = seedPrice(seed, 'openai', 'gpt-4o');
  const mini = seedPrice(seed, 'openai', 'gpt-4o-mini');
  const sonnet = seedPrice(seed, 'anthropic', 'claude-sonnet-4-5-20250929');
  const specs = [
    {
      name: 'chat gpt-4o cached',
      attributes: {
        'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o', 'gen_ai.response.model': 'gpt-4o-2024-08-06',
        'gen_ai.usage.input_tokens': 1200, 'gen_ai.usage.output_tokens': 300,
        'gen_ai.usage.cache_read.input_tokens': 200,
      },
      usage: { input: 1200, output: 300, cached: 200 }, price: gpt4o,
    },
    {
      name: 'chat gpt-4o-mini',
      attributes: {
        'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.usage.input_tokens': 5000,
        'gen_ai.usage.output_tokens': 700, 'tenant.id': 'tenant-without-override',
      },
      usage: { input: 5000, output: 700 }, price: mini,
    },
    {
      name: 'chat claude-sonnet-4-5',
      attributes: {
        'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'anthropic',
        'gen_ai.request.model': 'claude-sonnet-4-5-20250929',
        'gen_ai.usage.input_tokens': 2000, 'gen_ai.usage.output_tokens': 400,
        'gen_ai.usage.cache_read.input_tokens': 1500,
      },
      usage: { input: 2000, output: 400, cached: 1500 }, price: sonnet,
    },
  ];
  const extra = [
    {
      name: 'chat provider-reported',
      attributes: {
        'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.output_tokens': 10,
        'gen_ai.usage.cost.amount': 0.0123,
      },
    },
    {
      name: 'chat unknown model',
      attributes: {
        'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'e2e-unknown-model',
        'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.output_tokens': 10,
      },
    },
    { name: 'POST /v1/chat/completions', kind: SpanKind.SERVER, attributes: { 'http.request.method': 'POST' } },
  ];
  try {
    await withStack({ config: costConfig(db, ['cost']) }, async ({ sink, llm }) => {
      const sdk = createSdk({ url: llm.url, signals: ['traces'] });
      try {
        await emit(sdk, [...specs, ...extra]);
        const got = await arrivedByName(sink, [...specs, ...extra].map((s) => s.name));
        for (const s of specs) {
          const a = spanAttrs(got.get(s.name));
          assertLocalCost(a, expectedCost(s.price, s.usage), s.name);
          for (const [k, v] of Object.entries(s.attributes)) assert.equal(a.values[k], v, `${s.name}: ${k} kept`);
        }
        const rep = spanAttrs(got.get('chat provider-reported'));
        assert.equal(rep.values['gen_ai.usage.cost.amount'], 0.0123);
        assert.equal(rep.values['gen_ai.usage.cost.source'], 'provider');
        assert.equal(rep.values['gen_ai.usage.cost.currency'], 'USD');
        const unk = spanAttrs(got.get('chat unknown model'));
        for (const k of NO_COST) assert.equal(unk.values[k], undefined, `unknown model: no ${k}`);
        assert.equal(unk.values['llmotlp.cost.unpriced'], true);
        assert.equal(unk.types['llmotlp.cost.unpriced'], 'bool_value');
        const http = spanAttrs(got.get('POST /v1/chat/completions'));
        assert.deepEqual(Object.keys(http.values), ['http.request.method'], 'a non-LLM span passes unchanged');

        const m = await scrape(llm.metricsUrl);
        assert.equal(sumOf(m.samples, 'llmotlp_cost_unpriced_spans', { processor: 'cost', model: 'e2e-unknown-model' }), 1);
        assert.equal(sumOf(m.samples, 'llmotlp_cost_priced_spans', { processor: 'cost', source: 'local' }), 3);
        assert.equal(sumOf(m.samples, 'llmotlp_cost_priced_spans', { processor: 'cost', source: 'provider' }), 1);
        const total = specs.reduce((t, s) => t + expectedCost(s.price, s.usage), 0.0123);
        assert.equal(sumOf(m.samples, 'llmotlp_cost_amount_micros', { processor: 'cost', currency: 'USD' }), Math.round(total * 1e6));
      } finally {
        await sdk.tracerProvider.shutdown();
      }
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// ---- 2 ---------------------------------------------------------------------------------------

test('genai_semconv + cost: legacy names arrive as current names with the expected cost', async () => {
  const { dir, db } = tempDb();
  seedDb(db);
  const seed = readCsv(SEED_CSV);
  const cases = [
    {
      // semconv ≤ v1.36 names
      name: 'legacy semconv gpt-4o',
      attributes: {
        'gen_ai.operation.name': 'chat', 'gen_ai.system': 'openai', 'gen_ai.request.model': 'gpt-4o',
        'gen_ai.response.model': 'gpt-4o-2024-08-06', 'gen_ai.usage.prompt_tokens': 1200,
        'gen_ai.usage.completion_tokens': 300, 'gen_ai.usage.cache_read_input_tokens': 200,
      },
      removed: ['gen_ai.system', 'gen_ai.usage.prompt_tokens', 'gen_ai.usage.completion_tokens', 'gen_ai.usage.cache_read_input_tokens'],
      want: {
        'gen_ai.provider.name': 'openai', 'gen_ai.usage.input_tokens': 1200, 'gen_ai.usage.output_tokens': 300,
        'gen_ai.usage.cache_read.input_tokens': 200,
      },
      usage: { input: 1200, output: 300, cached: 200 }, price: seedPrice(seed, 'openai', 'gpt-4o'),
    },
    {
      // OpenLLMetry llm.* forms, token counts as strings (as LiteLLM sends them)
      name: 'openllmetry claude',
      attributes: {
        'gen_ai.system': 'anthropic', 'llm.request.type': 'chat',
        'llm.request.model': 'claude-sonnet-4-5-20250929', 'llm.usage.prompt_tokens': '2000',
        'llm.usage.completion_tokens': '400',
      },
      removed: ['gen_ai.system', 'llm.request.type', 'llm.request.model', 'llm.usage.prompt_tokens', 'llm.usage.completion_tokens'],
      want: {
        'gen_ai.provider.name': 'anthropic', 'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'claude-sonnet-4-5-20250929', 'gen_ai.usage.input_tokens': 2000,
        'gen_ai.usage.output_tokens': 400,
      },
      usage: { input: 2000, output: 400 }, price: seedPrice(seed, 'anthropic', 'claude-sonnet-4-5-20250929'),
    },
    {
      // OpenInference
      name: 'openinference gpt-4o-mini',
      attributes: {
        'llm.provider': 'openai', 'llm.model_name': 'gpt-4o-mini', 'llm.token_count.prompt': 5000,
        'llm.token_count.completion': 700, 'llm.token_count.prompt_details.cache_read': 1000,
      },
      removed: ['llm.provider', 'llm.model_name', 'llm.token_count.prompt', 'llm.token_count.completion'],
      want: {
        'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.usage.input_tokens': 5000, 'gen_ai.usage.output_tokens': 700,
        'gen_ai.usage.cache_read.input_tokens': 1000,
      },
      usage: { input: 5000, output: 700, cached: 1000 }, price: seedPrice(seed, 'openai', 'gpt-4o-mini'),
    },
  ];
  const reported = {
    // an OpenInference cost the provider reported: kept, under the current name
    name: 'openinference reported cost',
    attributes: {
      'llm.provider': 'openai', 'llm.model_name': 'gpt-4o', 'llm.token_count.prompt': 10,
      'llm.token_count.completion': 10, 'llm.cost.total': 0.0042,
    },
  };
  try {
    await withStack({ config: costConfig(db, ['genai_semconv', 'cost']) }, async ({ sink, llm }) => {
      const sdk = createSdk({ url: llm.url, signals: ['traces'] });
      try {
        await emit(sdk, [...cases, reported]);
        const got = await arrivedByName(sink, [...cases, reported].map((c) => c.name));
        for (const c of cases) {
          const a = spanAttrs(got.get(c.name));
          for (const [k, v] of Object.entries(c.want)) assert.equal(a.values[k], v, `${c.name}: ${k}`);
          for (const k of Object.keys(c.want).filter((k) => k.startsWith('gen_ai.usage.')))
            assert.equal(a.types[k], 'int_value', `${c.name}: ${k} is an int`);
          for (const k of c.removed) assert.equal(a.values[k], undefined, `${c.name}: legacy ${k} removed`);
          assertLocalCost(a, expectedCost(c.price, c.usage), c.name);
        }
        const r = spanAttrs(got.get(reported.name));
        assert.equal(r.values['gen_ai.usage.cost.amount'], 0.0042);
        assert.equal(r.values['gen_ai.usage.cost.source'], 'provider');
        assert.equal(r.values['llm.cost.total'], undefined, 'the legacy cost name is renamed');
      } finally {
        await sdk.tracerProvider.shutdown();
      }
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// ---- 3 ---------------------------------------------------------------------------------------

test('cost: `llmotlp pricing set` while the service runs reprices new spans, not old ones', async () => {
  const { dir, db } = tempDb();
  seedDb(db);
  const seed = readCsv(SEED_CSV);
  const before = seedPrice(seed, 'openai', 'gpt-4o');
  const after = { input: before.input * 2 + 1, cached: before.input * 2 + 1, output: before.output * 2 + 1 };
  const usage = { input: 1000, output: 100 };
  const attrs = {
    'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o',
    'gen_ai.usage.input_tokens': usage.input, 'gen_ai.usage.output_tokens': usage.output,
  };
  try {
    await withStack({ config: costConfig(db, ['cost'], { reload: '1s' }) }, async ({ sink, llm }) => {
      const sdk = createSdk({ url: llm.url, signals: ['traces'] });
      try {
        await emit(sdk, [{ name: 'before the update', attributes: attrs }]);
        const first = await arrivedByName(sink, ['before the update']);
        assertLocalCost(spanAttrs(first.get('before the update')), expectedCost(before, usage), 'before');

        // Spans that end from here on are at or after the new price's start (now).
        const endedBefore = Date.now();
        await sleep(1100);
        pricingCli(db, ['set', 'openai', 'gpt-4o', '--input', String(after.input), '--output', String(after.output)]);

        let n = 0;
        let last;
        const deadline = Date.now() + scaled(20000);
        for (;;) {
          const name = `after the update ${n++}`;
          await emit(sdk, [{ name, attributes: attrs }]);
          const got = await arrivedByName(sink, [name]);
          last = spanAttrs(got.get(name)).values['gen_ai.usage.cost.amount'];
          if (Math.abs(last - expectedCost(after, usage)) <= 1e-12 || Date.now() > deadline) break;
          assertAmount(last, expectedCost(before, usage), `${name}, not yet reloaded`);
          await sleep(250);
        }
        assertAmount(last, expectedCost(after, usage), 'a span ending after the update');
        // History is not repriced: a span that ENDED before the update, sent after it, is
        // priced as before.
        await emit(sdk, [{ name: 'late report of an early call', attributes: attrs, end: endedBefore }]);
        const late = await arrivedByName(sink, ['late report of an early call']);
        assertLocalCost(spanAttrs(late.get('late report of an early call')), expectedCost(before, usage), 'ended before');
        const m = await scrape(llm.metricsUrl);
        assert.ok(sumOf(m.samples, 'llmotlp_cost_price_reloads', { processor: 'cost' }) >= 1, 'a reload was counted');
      } finally {
        await sdk.tracerProvider.shutdown();
      }
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
