// llm-metrics.test.mjs — the seed's business metrics seen from outside: the official JS SDK, as
// the seed's gateway, sends a known mix of LLM traces through genai_semconv → cost →
// llm_metrics, with tail sampling keeping 10% of traces behind the connector; a real Prometheus
// (Debian's) scrapes the `prometheus` exporter and PromQL through its HTTP API must return the
// exact totals that were sent, though only a tenth of the traces reached the trace backend.
// The one idea: every expected figure is computed here from the calls the test made (and from
// the seed prices for cost), and the set of traces the sampler keeps is recomputed with the
// Collector's own hash, so both halves — metrics exact, traces sampled — are asserted exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { Sink } from './lib/sink.mjs';
import { freePort, waitForPort } from './lib/ports.mjs';
import { startWithConfigFile, collectorKeeps } from './lib/tailsampling.mjs';
import { stopLlmotlp } from './lib/llmotlp.mjs';
import { createSdk, shutdownSdk } from './lib/sdk.mjs';
import { startPrometheus, scrape, sumOf } from './lib/prometheus.mjs';
import { seedDb, readCsv, SEED_CSV, seedPrice, expectedCost } from './lib/genai.mjs';
import { scaled, sleep } from './lib/util.mjs';
import { dashboardExpressions } from '../../deploy/grafana/check-dashboard.mjs';

const REPO_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const DASHBOARD = path.join(REPO_ROOT, 'deploy', 'grafana', 'llmotlp-llm.json');

const TENANTS = ['acme', 'globex', 'initech'];
// [provider as the gateway names it (legacy gen_ai.system), semconv provider, model]
const TARGETS = [
  ['openai', 'openai', 'gpt-4o'],
  ['openai', 'openai', 'gpt-4o'],
  ['anthropic', 'anthropic', 'claude-sonnet-4-5-20250929'],
  ['mistral_ai', 'mistral_ai', 'mistral-large-latest'],
];
// Seconds, each inside one bucket of the default boundaries (never on a boundary).
const DURATIONS = [0.03, 0.3, 0.7, 1.5, 3];
const BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60];
const CALLS = 240;

/** The calls the gateway makes: every figure the metrics must show derives from this list. */
function plan(baseMs) {
  const calls = [];
  for (let i = 0; i < CALLS; i++) {
    const [system, provider, model] = TARGETS[i % TARGETS.length];
    // mistral_ai fails every call (availability 0); the others fail one call in ten
    const error = provider === 'mistral_ai' || i % 10 === 7;
    const call = {
      i,
      tenant: TENANTS[i % TENANTS.length],
      system,
      provider,
      model,
      error,
      seconds: DURATIONS[i % DURATIONS.length],
      endMs: baseMs + i * 10,
      remaining: 5000 - i,
      legacy: i % 2 === 1, // half the spans carry the pre-1.37 names genai_semconv renames
    };
    if (!error) {
      call.input = 100 + i;
      call.output = 20 + (i % 7);
    }
    calls.push(call);
  }
  return calls;
}

function llmAttributes(c) {
  const a = { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': c.model, 'tenant.id': c.tenant };
  if (c.legacy) a['gen_ai.system'] = c.system;
  else a['gen_ai.provider.name'] = c.provider;
  if (c.input !== undefined) {
    if (c.legacy) {
      a['gen_ai.usage.prompt_tokens'] = c.input;
      a['gen_ai.usage.completion_tokens'] = c.output;
    } else {
      a['gen_ai.usage.input_tokens'] = c.input;
      a['gen_ai.usage.output_tokens'] = c.output;
    }
  }
  // both sources of the rate-limit figure: our attribute, and the semconv response header
  if (c.i % 3 === 0) a['http.response.header.x-ratelimit-remaining-requests'] = [String(c.remaining)];
  else a['llmproxy.ratelimit.remaining'] = c.remaining;
  if (c.error && c.i % 2 === 0) a['error.type'] = c.provider === 'mistral_ai' ? '503' : '429';
  return a;
}

/** One trace per call: the gateway's server span and, under it, the LLM client span. */
function emit(sdk, calls) {
  const gateway = sdk.tracerProvider.getTracer('LLMProxy.Gateway', '2.0.0');
  const llm = sdk.tracerProvider.getTracer('LLMProxy.LLM', '2.0.0');
  for (const c of calls) {
    const startMs = c.endMs - c.seconds * 1000;
    const root = gateway.startSpan('POST /v1/chat/completions', {
      kind: SpanKind.SERVER,
      startTime: startMs - 5,
      attributes: { 'tenant.id': c.tenant },
    });
    const ctx = trace.setSpan(ROOT_CONTEXT, root);
    const span = llm.startSpan(`chat ${c.model}`, { kind: SpanKind.CLIENT, startTime: startMs, attributes: llmAttributes(c) }, ctx);
    if (c.error) span.setStatus({ code: SpanStatusCode.ERROR, message: 'provider error' });
    span.end(c.endMs);
    root.end(c.endMs + 5);
  }
}

function configYaml({ grpcPort, metricsPort, promPort, sinkEndpoint, db, temporality }) {
  return `receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:${grpcPort}
processors:
  genai_semconv:
    llm_scopes: [LLMProxy.LLM]
  cost:
    database: ${db}
    create_database: false
  tail_sampling:
    decision_wait: 1s
    policies:
      - name: sample-10
        type: probabilistic
        probabilistic: {sampling_percentage: 10}
connectors:
  forward:
  llm_metrics:
    export_interval: 500ms
    aggregation_temporality: ${temporality}
exporters:
  otlp:
    endpoint: ${sinkEndpoint}
    tls: {insecure: true}
  prometheus:
    endpoint: 127.0.0.1:${promPort}
service:
  telemetry:
    logs: {level: info}
    metrics: {address: 127.0.0.1:${metricsPort}}
  pipelines:
    traces/in:
      receivers: [otlp]
      processors: [genai_semconv, cost]
      exporters: [llm_metrics, forward]
    traces/sampled:
      receivers: [forward]
      processors: [tail_sampling]
      exporters: [otlp]
    metrics/llm:
      receivers: [llm_metrics]
      exporters: [prometheus, otlp]
`;
}

/** Sums of `calls` grouped by key(c), of value(c). */
function group(calls, key, value = () => 1) {
  const m = new Map();
  for (const c of calls) {
    const k = key(c);
    if (k === null) continue;
    m.set(k, (m.get(k) ?? 0) + value(c));
  }
  return m;
}

/** PromQL result vector as Map(labelsKey → number), labelsKey built from `labels`. */
async function vector(prom, promql, labels) {
  const res = await prom.query(promql);
  return new Map(res.map((r) => [labels.map((l) => r.metric[l] ?? '').join('|'), Number(r.value[1])]));
}

function assertSameMap(got, want, what, { tolerance = 0 } = {}) {
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), `${what}: series`);
  for (const [k, v] of want) {
    const g = got.get(k);
    const ok = tolerance ? Math.abs(g - v) <= tolerance * Math.max(1, Math.abs(v)) : g === v;
    assert.ok(ok, `${what} {${k}}: got ${g}, sent ${v}`);
  }
}

async function scenario(temporality) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmotlp-llmm-'));
  const db = path.join(dir, 'prices.db');
  seedDb(db);
  const seed = readCsv(SEED_CSV);

  const sink = await new Sink().start();
  const [grpcPort, metricsPort, promPort] = [await freePort(), await freePort(), await freePort()];
  const configPath = path.join(dir, 'config.yaml');
  fs.writeFileSync(configPath, configYaml({ grpcPort, metricsPort, promPort, sinkEndpoint: sink.endpoint, db, temporality }));
  const llm = await startWithConfigFile(configPath, { port: grpcPort, metricsPort });
  let prom;
  let ok = false;
  try {
    assert.ok(await waitForPort(promPort, scaled(10000)), 'prometheus exporter endpoint listens');
    prom = await startPrometheus({ targets: [`127.0.0.1:${promPort}`] });

    const sdk = createSdk({ url: `http://127.0.0.1:${grpcPort}`, signals: ['traces'] });
    const calls = plan(Date.now() - 60000);
    // Two waves, the second once Prometheus has scraped the first: the counters then grow
    // between scrapes, so the dashboard's rate() panels have something to show.
    emit(sdk, calls.slice(0, CALLS / 2));
    await sdk.tracerProvider.forceFlush();
    const first = await prom.waitForValue('sum(llmproxy_request_count_total)', (v) => v === CALLS / 2);
    assert.equal(first, CALLS / 2, 'the first wave is counted');
    emit(sdk, calls.slice(CALLS / 2));
    await shutdownSdk(sdk);
    const sentSpans = sdk.sent.spans;
    assert.equal(sentSpans.length, 2 * CALLS, 'the SDK produced two spans per call');

    // ---- metrics: exact, from every call ---------------------------------------------------
    const total = await prom.waitForValue('sum(llmproxy_request_count_total)', (v) => v === CALLS);
    assert.equal(total, CALLS, 'llmproxy_request_count_total counts every call');

    assertSameMap(
      await vector(prom, 'sum by (tenant, status) (llmproxy_request_count_total)', ['tenant', 'status']),
      group(calls, (c) => `${c.tenant}|${c.error ? 'error' : 'ok'}`),
      'requests per tenant and status',
    );
    assertSameMap(
      await vector(prom, 'sum by (provider) (llmproxy_request_count_total)', ['provider']),
      group(calls, (c) => c.provider),
      'requests per provider',
    );
    const ok_ = calls.filter((c) => !c.error);
    assertSameMap(
      await vector(prom, 'sum by (model) (llmproxy_tokens_input_total)', ['model']),
      group(ok_, (c) => c.model, (c) => c.input),
      'input tokens per model',
    );
    assertSameMap(
      await vector(prom, 'sum by (model) (llmproxy_tokens_output_total)', ['model']),
      group(ok_, (c) => c.model, (c) => c.output),
      'output tokens per model',
    );
    assertSameMap(
      await vector(prom, 'sum by (tenant) (llmproxy_tokens_input_total)', ['tenant']),
      group(ok_, (c) => c.tenant, (c) => c.input),
      'input tokens per tenant',
    );
    const priceOf = new Map(TARGETS.map(([, p, m]) => [`${p}/${m}`, seedPrice(seed, p, m)]));
    assertSameMap(
      await vector(prom, 'sum by (tenant) (llmproxy_cost_estimated_total)', ['tenant']),
      group(ok_, (c) => c.tenant, (c) => 100 * expectedCost(priceOf.get(`${c.provider}/${c.model}`), c)),
      'cost per tenant in cents',
      { tolerance: 1e-9 },
    );

    // latency histogram: every bucket of the seed boundaries, per provider
    for (const provider of ['openai', 'anthropic']) {
      const got = await vector(prom, `sum by (le) (llmproxy_request_duration_seconds_bucket{provider="${provider}"})`, ['le']);
      const mine = calls.filter((c) => c.provider === provider);
      const want = new Map([...BUCKETS.map((b) => [String(b), mine.filter((c) => c.seconds <= b).length]), ['+Inf', mine.length]]);
      assertSameMap(got, want, `request duration buckets of ${provider}`);
      const sum = await prom.queryValue(`sum(llmproxy_request_duration_seconds_sum{provider="${provider}"})`);
      const wantSum = mine.reduce((a, c) => a + c.seconds, 0);
      assert.ok(Math.abs(sum - wantSum) < 1e-6 * wantSum, `duration sum of ${provider}: ${sum} vs ${wantSum}`);
    }

    // gauges: availability per provider, last rate-limit figure per tenant
    assertSameMap(
      await vector(prom, 'max by (provider) (llmproxy_provider_availability)', ['provider']),
      new Map([['openai', 1], ['anthropic', 1], ['mistral_ai', 0]]),
      'provider availability',
    );
    const lastOf = new Map();
    for (const c of calls) lastOf.set(c.tenant, c.remaining); // calls end in order
    assertSameMap(await vector(prom, 'max by (tenant) (llmproxy_ratelimit_remaining)', ['tenant']), lastOf, 'rate limit remaining');

    // the semantic conventions' histograms
    assertSameMap(
      await vector(prom, 'sum by (gen_ai_token_type) (gen_ai_client_token_usage_sum)', ['gen_ai_token_type']),
      new Map([
        ['input', ok_.reduce((a, c) => a + c.input, 0)],
        ['output', ok_.reduce((a, c) => a + c.output, 0)],
      ]),
      'gen_ai.client.token.usage per token type',
    );
    assert.equal(await prom.queryValue('sum(gen_ai_client_operation_duration_seconds_count)'), CALLS, 'operation.duration counts every call');
    assert.equal(
      await prom.queryValue('sum(gen_ai_client_operation_duration_seconds_count{error_type!=""})'),
      calls.filter((c) => c.error).length,
      'operation.duration carries error.type on every failed call',
    );

    // the exposition itself names types as the Collector's exporter does
    const page = await scrape(`http://127.0.0.1:${promPort}/metrics`);
    assert.equal(page.types.llmproxy_request_count_total ?? page.types.llmproxy_request_count, 'counter');
    assert.equal(page.types.llmproxy_request_duration_seconds, 'histogram');
    assert.equal(page.types.llmproxy_provider_availability, 'gauge');
    assert.ok(page.samples.some((s) => s.name === 'target_info' && s.labels.job === 'llm-gateway'), 'target_info from the resource');

    // the same metrics also leave as OTLP through the otlp exporter: under cumulative the last
    // export holds the totals, under delta the exports add up to them (the prometheus exporter
    // accumulated them into the same counters as above)
    const delta = temporality === 'delta';
    const countPoints = (req) => {
      const pts = [];
      for (const rm of req.resource_metrics ?? [])
        for (const sm of rm.scope_metrics ?? [])
          for (const m of sm.metrics ?? [])
            if (m.name === 'llmproxy.request.count') {
              const t = m.sum.aggregation_temporality;
              assert.ok(t === (delta ? 1 : 2) || t === (delta ? 'AGGREGATION_TEMPORALITY_DELTA' : 'AGGREGATION_TEMPORALITY_CUMULATIVE'), `temporality ${t}`);
              assert.equal(m.sum.is_monotonic, true);
              pts.push(...m.sum.data_points);
            }
      return pts;
    };
    const sumPoints = (pts) => pts.reduce((a, p) => a + Number(p.as_int ?? p.as_double ?? 0), 0);
    const otlpCount = () => {
      const reqs = sink.accepted('metrics').map((c) => c.request);
      if (delta) return sumPoints(reqs.flatMap(countPoints));
      for (let k = reqs.length - 1; k >= 0; k--) {
        const pts = countPoints(reqs[k]);
        if (pts.length) return sumPoints(pts);
      }
      return null;
    };
    const otlpTotal = await sink.waitFor(() => (otlpCount() === CALLS ? CALLS : null), scaled(10000));
    assert.equal(otlpTotal, CALLS, `llmproxy.request.count over OTLP (${temporality}): ${otlpCount()}`);

    // ---- traces: a tenth, exactly the ones the Collector's hash keeps ------------------------
    const traceIds = [...new Set(sentSpans.map((s) => s.spanContext().traceId))];
    assert.equal(traceIds.length, CALLS);
    const kept = new Set(traceIds.filter((t) => collectorKeeps(Buffer.from(t, 'hex'), 10)));
    assert.ok(kept.size > 0 && kept.size < CALLS / 4, `the sampler keeps about a tenth (${kept.size})`);
    const arrived = await sink.waitFor((s) => {
      const ids = new Set(s.spans().map((a) => Buffer.from(a.span.trace_id).toString('hex')));
      return ids.size >= kept.size ? ids : null;
    }, scaled(15000));
    assert.ok(arrived, 'the kept traces reach the trace backend');
    await sleep(scaled(1500)); // a decision cycle more: nothing else may arrive
    const finalIds = new Set(sink.spans().map((a) => Buffer.from(a.span.trace_id).toString('hex')));
    assert.deepEqual([...finalIds].sort(), [...kept].sort(), 'exactly the traces the probabilistic policy keeps');
    assert.equal(sink.spans().length, 2 * kept.size, 'each kept trace arrives whole, once');

    // ---- the Grafana dashboard's queries run on this data -------------------------------------
    for (const { panel, expr } of dashboardExpressions(DASHBOARD)) {
      const res = await prom.query(expr);
      assert.ok(res.length > 0, `dashboard panel "${panel}": ${expr} returns no series`);
    }
    ok = true;
  } catch (err) {
    llm.dumpLog('test failed');
    if (prom) process.stderr.write(`prometheus log:\n${prom.log()}\n`);
    throw err;
  } finally {
    if (prom) await prom.stop();
    const res = await stopLlmotlp(llm);
    await sink.stop();
    if (ok) assert.deepEqual(res, { code: 0, signal: null }, 'llmotlp exits 0 on SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('llm_metrics: Prometheus sees the exact totals of every call while tail sampling keeps 10% of traces', () =>
  scenario('cumulative'));

test('llm_metrics (delta temporality): the exported deltas add up to the same exact totals', () => scenario('delta'));

test("llm_metrics: the repository's config.yaml counts every LLM call on :8889 and keeps every error trace", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmotlp-llmm-default-'));
  const db = path.join(dir, 'prices.db');
  seedDb(db);
  const seed = readCsv(SEED_CSV);
  const sink = await new Sink().start();
  const [port, httpPort, healthPort, metricsPort, promPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const llm = await startWithConfigFile(path.join(REPO_ROOT, 'config.yaml'), {
    port,
    metricsPort,
    env: {
      OTLP_GRPC_ENDPOINT: `127.0.0.1:${port}`,
      OTLP_HTTP_ENDPOINT: `127.0.0.1:${httpPort}`,
      LLMOTLP_HEALTH_ENDPOINT: `127.0.0.1:${healthPort}`,
      LLMOTLP_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
      LLMOTLP_PROMETHEUS_ENDPOINT: `127.0.0.1:${promPort}`,
      LLMOTLP_EXPORTERS: '[otlp]',
      OTLP_ENDPOINT: sink.endpoint,
      LLMOTLP_PRICING_DB: db,
    },
    // the default's 15 s export interval, shortened so the test does not wait for it
    args: ['--set', 'connectors::llm_metrics::export_interval=500ms'],
  }).catch(async (e) => {
    await sink.stop();
    throw e;
  });
  let ok = false;
  try {
    const sdk = createSdk({ url: `http://127.0.0.1:${port}`, signals: ['traces'] });
    const calls = plan(Date.now() - 60000).slice(0, 40);
    emit(sdk, calls);
    await shutdownSdk(sdk);
    const url = `http://127.0.0.1:${promPort}/metrics`;
    let page;
    const end = Date.now() + scaled(15000);
    do {
      page = await scrape(url);
      if (sumOf(page.samples, 'llmproxy_request_count_total') === calls.length) break;
      await sleep(200);
    } while (Date.now() < end);
    assert.equal(page.status, 200);
    assert.equal(sumOf(page.samples, 'llmproxy_request_count_total'), calls.length, 'every call counted on :8889');
    const errors = calls.filter((c) => c.error);
    assert.equal(sumOf(page.samples, 'llmproxy_request_count_total', { status: 'error' }), errors.length, 'failed calls');
    const priceOf = new Map(TARGETS.map(([, p, m]) => [`${p}/${m}`, seedPrice(seed, p, m)]));
    for (const tenant of TENANTS) {
      const want = calls
        .filter((c) => !c.error && c.tenant === tenant)
        .reduce((a, c) => a + 100 * expectedCost(priceOf.get(`${c.provider}/${c.model}`), c), 0);
      const got = sumOf(page.samples, 'llmproxy_cost_estimated_total', { tenant });
      assert.ok(Math.abs(got - want) <= 1e-9 * Math.max(1, want), `cost of ${tenant}: ${got} cents, sent ${want}`);
    }

    // SIGTERM decides the traces still waiting (decision_wait 10 s): every error trace is kept
    const exit = await stopLlmotlp(llm, scaled(20000));
    assert.deepEqual(exit, { code: 0, signal: null });
    const arrived = new Set(sink.spans().map((a) => Buffer.from(a.span.trace_id).toString('hex')));
    const sentIds = [...new Set(sdk.sent.spans.map((s) => s.spanContext().traceId))];
    const errorIds = new Set(
      sdk.sent.spans.filter((s) => s.status.code === SpanStatusCode.ERROR).map((s) => s.spanContext().traceId),
    );
    assert.equal(errorIds.size, errors.length);
    for (const id of errorIds) assert.ok(arrived.has(id), `error trace ${id} kept`);
    assert.ok(arrived.size < sentIds.length, `not every trace is kept (${arrived.size} of ${sentIds.length})`);
    // and the LLM metrics also left over OTLP through the default metrics pipeline
    assert.ok(
      sink.metricPoints().some((p) => p.metric.name === 'llmproxy.request.count'),
      'llmproxy.request.count reached the OTLP exporter',
    );
    ok = true;
  } finally {
    if (!ok) llm.dumpLog('test failed');
    if (llm.alive) await stopLlmotlp(llm);
    await sink.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
