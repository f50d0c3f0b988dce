// gen.test.mjs — `llmotlp gen` against a real llmotlp (genai_semconv → cost → llm_metrics)
// exporting to the e2e sink, over OTLP/gRPC and OTLP/HTTP, for every naming style.
// The one idea: the generator's JSON summary is a claim, and the sink is the witness. Each run
// has its own service.name, so the sink's spans, metric points and log records of that run are
// counted apart and must equal what the summary says was accepted, one for one; the spans must
// arrive renamed to the current gen_ai.* names whatever naming was sent, the chat calls priced
// at the seed price list's amount (computed here from pricing/prices.csv), and llm_metrics must
// have counted every LLM call. Refusals are real too: nothing listening, and a receiver that
// wants a bearer token (refused without --header, accepted with it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Sink } from './lib/sink.mjs';
import { freePort } from './lib/ports.mjs';
import { startWithConfigFile } from './lib/tailsampling.mjs';
import { binaryPath, stopLlmotlp } from './lib/llmotlp.mjs';
import { seedDb, readCsv, SEED_CSV, seedPrice, expectedCost, spanAttrs, assertAmount } from './lib/genai.mjs';
import { attrMap } from './lib/compare.mjs';
import { scaled, sleep, hex } from './lib/util.mjs';

const NAMINGS = ['semconv', 'legacy', 'openinference', 'openllmetry', 'mixed'];
const LEGACY_KEYS = [
  'gen_ai.system', 'gen_ai.usage.prompt_tokens', 'gen_ai.usage.completion_tokens',
  'gen_ai.usage.cache_read_input_tokens', 'llm.model_name', 'llm.provider', 'llm.token_count.prompt',
  'llm.token_count.completion', 'llm.request.type', 'llm.request.model', 'llm.usage.prompt_tokens',
  'llm.usage.completion_tokens', 'openinference.span.kind', 'traceloop.span.kind',
];
const PROVIDERS = new Set(['openai', 'anthropic', 'gcp.gemini', 'gcp.gen_ai', 'mistral_ai']);

/** Runs `llmotlp gen ARGS`; resolves {code, stdout, stderr} (never rejects on a non-zero exit). */
function gen(args) {
  return new Promise((resolve) => {
    execFile(binaryPath(), ['gen', ...args], { timeout: scaled(60000) }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

function configYaml({ grpc, http, metrics, sinkEndpoint, db }) {
  return `receivers:
  otlp:
    protocols:
      grpc: {endpoint: 127.0.0.1:${grpc}}
      http: {endpoint: 127.0.0.1:${http}}
processors:
  genai_semconv:
    llm_scopes: [LLMProxy.LLM]
  cost:
    database: ${db}
    create_database: false
connectors:
  llm_metrics:
    export_interval: 200ms
    aggregation_temporality: delta
exporters:
  otlp:
    endpoint: ${sinkEndpoint}
    tls: {insecure: true}
service:
  telemetry:
    metrics: {address: 127.0.0.1:${metrics}}
  pipelines:
    traces: {receivers: [otlp], processors: [genai_semconv, cost], exporters: [otlp, llm_metrics]}
    metrics: {receivers: [otlp], exporters: [otlp]}
    metrics/llm: {receivers: [llm_metrics], exporters: [otlp]}
    logs: {receivers: [otlp], processors: [genai_semconv], exporters: [otlp]}
`;
}

const serviceOf = (resource) => attrMap(resource?.attributes)['service.name']?.value;

async function startStack() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmotlp-gen-'));
  const db = path.join(dir, 'prices.db');
  seedDb(db);
  const sink = await new Sink().start();
  const ports = { grpc: await freePort(), http: await freePort(), metrics: await freePort() };
  const cfg = path.join(dir, 'config.yaml');
  fs.writeFileSync(cfg, configYaml({ ...ports, sinkEndpoint: sink.endpoint, db }));
  const h = await startWithConfigFile(cfg, { port: ports.grpc, metricsPort: ports.metrics });
  return { dir, sink, h, ports };
}

/** The sink's items of one run (its service.name). */
function runItems(sink, service) {
  const spans = sink.spans().filter((s) => serviceOf(s.resource) === service);
  const points = sink.metricPoints().filter((p) => serviceOf(p.resource) === service && p.scope?.name === 'LLMProxy.LLM');
  const logs = sink.logRecords().filter((r) => serviceOf(r.resource) === service);
  return { spans, points, logs };
}

/** The LLM calls that llm_metrics counted (delta points of llmproxy.request.count, summed). */
function llmMetricsCalls(sink) {
  let n = 0;
  for (const p of sink.metricPoints()) {
    if (p.scope?.name === 'llmotlp/llm_metrics' && p.metric.name === 'llmproxy.request.count')
      n += Number(p.point.as_int ?? p.point.as_double ?? 0);
  }
  return n;
}

function checkRun(summary, { spans, points, logs }, naming, priceRows) {
  const acc = summary.accepted;
  assert.equal(spans.length, acc.spans, `${naming}: spans at the sink vs summary`);
  assert.equal(points.length, acc.metric_points, `${naming}: metric points at the sink vs summary`);
  assert.equal(logs.length, acc.log_records, `${naming}: log records at the sink vs summary`);
  for (const sig of ['traces', 'metrics', 'logs']) {
    const r = summary.requests[sig];
    assert.equal(r.accepted, r.sent, `${naming}: ${sig} requests accepted`);
    assert.equal(r.rejected, 0);
    assert.equal(r.items_rejected, 0);
  }
  assert.equal(summary.requests.traces.items_sent, acc.spans);

  const traceIds = new Set(spans.map((s) => hex(s.span.trace_id)));
  assert.equal(traceIds.size, acc.traces, `${naming}: distinct trace IDs`);
  const roots = spans.filter((s) => !s.span.parent_span_id?.length);
  assert.equal(roots.length, acc.traces);
  assert.equal(roots.filter((s) => s.span.status?.code === 2).length, acc.error_traces, `${naming}: failed traces`);

  const spanKeys = new Set(spans.map((s) => `${hex(s.span.trace_id)}/${hex(s.span.span_id)}`));
  for (const { record: r } of logs) assert.ok(spanKeys.has(`${hex(r.trace_id)}/${hex(r.span_id)}`), `${naming}: a log record points at no span`);

  const calls = spans.filter((s) => s.span.kind === 3); // CLIENT
  assert.equal(calls.length, acc.llm_calls, `${naming}: LLM call spans`);
  let priced = 0;
  let tokensIn = 0;
  const perProvider = {};
  for (const s of calls) {
    const { values: a } = spanAttrs(s);
    for (const k of LEGACY_KEYS) assert.equal(a[k], undefined, `${naming}: ${k} left on '${s.span.name}'`);
    assert.ok(PROVIDERS.has(a['gen_ai.provider.name']), `${naming}: provider ${a['gen_ai.provider.name']}`);
    assert.ok(['chat', 'embeddings'].includes(a['gen_ai.operation.name']), `${naming}: operation ${a['gen_ai.operation.name']}`);
    assert.ok(a['gen_ai.request.model'], `${naming}: no gen_ai.request.model on '${s.span.name}'`);
    assert.ok(a['tenant.id']?.startsWith('tenant-'));
    perProvider[a['gen_ai.provider.name']] = (perProvider[a['gen_ai.provider.name']] ?? 0) + 1;
    if (s.span.status?.code === 2) {
      assert.ok(a['error.type'], `${naming}: a failed call without error.type`);
      assert.equal(a['gen_ai.usage.cost.amount'], undefined);
      continue;
    }
    tokensIn += a['gen_ai.usage.input_tokens'];
    assert.equal(typeof a['gen_ai.usage.input_tokens'], 'number', `${naming}: input tokens not normalized`);
    if (a['gen_ai.operation.name'] === 'embeddings') {
      // the reference price list has no embeddings price: said, not silently zero
      assert.equal(a['llmotlp.cost.unpriced'], true, `${naming}: embeddings span not marked unpriced`);
      continue;
    }
    assert.equal(typeof a['gen_ai.usage.output_tokens'], 'number');
    const model = a['gen_ai.response.model'] ?? a['gen_ai.request.model'];
    const provider = a['gen_ai.provider.name'] === 'gcp.gen_ai' ? 'gcp.gemini' : a['gen_ai.provider.name'];
    const price = seedPrice(priceRows, provider, model);
    const want = expectedCost(price, {
      input: a['gen_ai.usage.input_tokens'],
      output: a['gen_ai.usage.output_tokens'],
      cached: a['gen_ai.usage.cache_read.input_tokens'] ?? 0,
    });
    assertAmount(a['gen_ai.usage.cost.amount'], want, `${naming} ${provider} ${model}`);
    assert.equal(a['gen_ai.usage.cost.source'], 'local');
    priced++;
  }
  assert.ok(priced > 0, `${naming}: no priced span`);
  assert.equal(tokensIn, acc.input_tokens, `${naming}: input tokens at the sink vs summary`);
  // per provider, as the summary counts them (OpenInference's "google" is Google's GenAI API)
  const want = {};
  for (const m of acc.models) {
    const p = naming === 'openinference' && m.provider === 'gcp.gemini' ? 'gcp.gen_ai' : m.provider;
    want[p] = (want[p] ?? 0) + m.calls;
  }
  if (naming === 'mixed') {
    // a mixed run spells Gemini both ways: compare the Google total
    const g = (o) => (o['gcp.gemini'] ?? 0) + (o['gcp.gen_ai'] ?? 0);
    assert.equal(g(perProvider), g(want));
    for (const p of ['openai', 'anthropic', 'mistral_ai']) assert.equal(perProvider[p] ?? 0, want[p] ?? 0, `mixed: ${p}`);
  } else {
    assert.deepEqual(perProvider, want, `${naming}: calls per provider`);
  }
}

for (const protocol of ['grpc', 'http']) {
  test(`llmotlp gen over ${protocol}: every naming arrives as the summary says, normalized and priced`, async (t) => {
    const { sink, h, ports } = await startStack();
    t.after(async () => {
      await stopLlmotlp(h);
      await sink.stop();
    });
    const priceRows = readCsv(SEED_CSV);
    const endpoint = `127.0.0.1:${protocol === 'grpc' ? ports.grpc : ports.http}`;
    let totalCalls = 0;
    for (const [i, naming] of NAMINGS.entries()) {
      const service = `gen-e2e-${protocol}-${naming}`;
      const res = await gen([
        '--protocol', protocol, '--endpoint', endpoint, '--naming', naming, '--traces', '40',
        '--rate', '0', '--batch-size', '3', '--workers', '2', '--signals', 'traces,metrics,logs',
        '--error-ratio', '0.15', '--seed', String(100 + i), '--service-name', service, '--format', 'json',
      ]);
      assert.equal(res.code, 0, `gen ${naming} exited ${res.code}: ${res.stderr}`);
      const summary = JSON.parse(res.stdout);
      assert.equal(summary.accepted.traces, 40, 'exactly --traces traces');
      assert.ok(summary.accepted.error_traces > 0 && summary.accepted.error_traces < 40);
      if (naming !== 'mixed') assert.equal(summary.accepted.traces_by_naming[naming], 40);
      const want = summary.accepted;
      const got = await sink.waitFor(() => {
        const r = runItems(sink, service);
        return r.spans.length >= want.spans && r.points.length >= want.metric_points && r.logs.length >= want.log_records ? r : null;
      }, scaled(15000));
      assert.ok(got, `${naming}: the sink did not receive everything: ${JSON.stringify({ spans: runItems(sink, service).spans.length, want: want.spans })}`);
      await sleep(300); // anything extra (a duplicate) would arrive now
      checkRun(summary, runItems(sink, service), naming, priceRows);
      totalCalls += want.llm_calls;
    }
    // llm_metrics saw every LLM call the generator made
    const counted = await sink.waitFor(() => llmMetricsCalls(sink) >= totalCalls, scaled(10000));
    assert.ok(counted, `llm_metrics counted ${llmMetricsCalls(sink)} calls, want ${totalCalls}`);
    assert.equal(llmMetricsCalls(sink), totalCalls);
  });
}

test('llmotlp gen: nothing listening is a clear failure, not a summary of zeros', async () => {
  const port = await freePort(); // free: nothing listens there
  for (const protocol of ['grpc', 'http']) {
    const res = await gen(['--protocol', protocol, '--endpoint', `127.0.0.1:${port}`, '--traces', '5', '--rate', '0']);
    assert.equal(res.code, 1, `${protocol}: exit ${res.code}`);
    assert.match(res.stderr, new RegExp(`cannot reach 127\\.0\\.0\\.1:${port} over OTLP/${protocol === 'grpc' ? 'gRPC' : 'HTTP'}`));
    assert.match(res.stderr, /[Cc]onnect|refused/);
    assert.match(res.stdout, /0 accepted/);
  }
  const bad = await gen(['--naming', 'opentelemetry']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid --naming 'opentelemetry'/);
});

test('llmotlp gen: a receiver that wants a token refuses without --header and accepts with it', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmotlp-gen-auth-'));
  const sink = await new Sink().start();
  const ports = { grpc: await freePort(), http: await freePort(), metrics: await freePort() };
  const cfg = path.join(dir, 'config.yaml');
  fs.writeFileSync(cfg, `extensions:
  bearertokenauth: {token: s3cret}
receivers:
  otlp:
    protocols:
      grpc: {endpoint: 127.0.0.1:${ports.grpc}, auth: {authenticator: bearertokenauth}}
      http: {endpoint: 127.0.0.1:${ports.http}, auth: {authenticator: bearertokenauth}}
exporters:
  otlp: {endpoint: ${sink.endpoint}, tls: {insecure: true}}
service:
  extensions: [bearertokenauth]
  telemetry: {metrics: {address: 127.0.0.1:${ports.metrics}}}
  pipelines:
    traces: {receivers: [otlp], exporters: [otlp]}
`);
  const h = await startWithConfigFile(cfg, { port: ports.grpc, metricsPort: ports.metrics });
  t.after(async () => {
    await stopLlmotlp(h);
    await sink.stop();
  });
  for (const protocol of ['grpc', 'http']) {
    const endpoint = `127.0.0.1:${protocol === 'grpc' ? ports.grpc : ports.http}`;
    const base = ['--protocol', protocol, '--endpoint', endpoint, '--traces', '4', '--rate', '0', '--format', 'json'];
    const refused = await gen(base);
    assert.equal(refused.code, 1, `${protocol}: exit ${refused.code}`);
    assert.match(refused.stderr, protocol === 'grpc' ? /UNAUTHENTICATED/ : /HTTP 401/);
    const s1 = JSON.parse(refused.stdout);
    assert.equal(s1.requests.traces.accepted, 0);
    assert.equal(s1.requests.traces.rejected, 4);
    assert.equal(s1.accepted.spans, 0);

    const ok = await gen([...base, '--header', 'authorization=Bearer s3cret', '--service-name', `auth-${protocol}`]);
    assert.equal(ok.code, 0, `${protocol}: ${ok.stderr}`);
    const s2 = JSON.parse(ok.stdout);
    assert.equal(s2.requests.traces.accepted, 4);
    const arrived = await sink.waitFor(
      () => sink.spans().filter((s) => serviceOf(s.resource) === `auth-${protocol}`).length >= s2.accepted.spans, scaled(10000));
    assert.ok(arrived);
  }
  assert.equal(sink.spans().filter((s) => !String(serviceOf(s.resource)).startsWith('auth-')).length, 0, 'refused spans arrived');
});

test('llmotlp gen over TLS: --ca-file verifies the receiver, an unknown CA or plaintext is refused clearly', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmotlp-gen-tls-'));
  const sh = (script) => execFileSync('bash', ['-c', `set -e; cd ${dir}; ${script}`], { stdio: 'pipe' });
  const key = '-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes';
  sh(`openssl req -x509 ${key} -days 2 -subj /CN=gen-e2e-ca -keyout ca.key -out ca.pem
      openssl req ${key} -subj /CN=localhost -keyout server.key -out server.csr
      printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > server.ext
      openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext -out server.pem`);
  const sink = await new Sink().start();
  const ports = { grpc: await freePort(), http: await freePort(), metrics: await freePort() };
  const tls = `tls: {cert_file: ${path.join(dir, 'server.pem')}, key_file: ${path.join(dir, 'server.key')}}`;
  const cfg = path.join(dir, 'config.yaml');
  fs.writeFileSync(cfg, `receivers:
  otlp:
    protocols:
      grpc: {endpoint: 127.0.0.1:${ports.grpc}, ${tls}}
      http: {endpoint: 127.0.0.1:${ports.http}, ${tls}}
exporters:
  otlp: {endpoint: ${sink.endpoint}, tls: {insecure: true}}
service:
  telemetry: {metrics: {address: 127.0.0.1:${ports.metrics}}}
  pipelines:
    traces: {receivers: [otlp], exporters: [otlp]}
`);
  const h = await startWithConfigFile(cfg, { port: ports.grpc, metricsPort: ports.metrics });
  t.after(async () => {
    await stopLlmotlp(h);
    await sink.stop();
  });
  for (const protocol of ['grpc', 'http']) {
    const endpoint = `127.0.0.1:${protocol === 'grpc' ? ports.grpc : ports.http}`;
    const base = ['--protocol', protocol, '--endpoint', endpoint, '--traces', '3', '--rate', '0', '--timeout', '5s'];
    const ok = await gen([...base, '--ca-file', path.join(dir, 'ca.pem'), '--service-name', `tls-${protocol}`, '--format', 'json']);
    assert.equal(ok.code, 0, `${protocol} with --ca-file: ${ok.stderr}`);
    const s = JSON.parse(ok.stdout);
    assert.equal(s.requests.traces.accepted, 3);
    const arrived = await sink.waitFor(
      () => sink.spans().filter((x) => serviceOf(x.resource) === `tls-${protocol}`).length === s.accepted.spans, scaled(10000));
    assert.ok(arrived, `${protocol}: TLS spans did not arrive`);
    // the system roots do not know the test CA; plaintext to a TLS port gets no OTLP answer
    for (const flags of [['--tls'], ['--insecure']]) {
      const bad = await gen([...base, ...flags]);
      assert.equal(bad.code, 1, `${protocol} ${flags}: exit ${bad.code}`);
      assert.match(bad.stderr, new RegExp(`cannot reach ${endpoint.replace(/\./g, '\\.')}|refused`), `${protocol} ${flags}: ${bad.stderr}`);
    }
  }
});

test('llmotlp gen stopped by SIGTERM still prints an exact summary', async (t) => {
  const { sink, h, ports } = await startStack();
  t.after(async () => {
    await stopLlmotlp(h);
    await sink.stop();
  });
  const service = 'gen-e2e-sigterm';
  const child = spawn(binaryPath(), ['gen', '--endpoint', `127.0.0.1:${ports.grpc}`, '--rate', '50', '--duration', '10m',
    '--service-name', service, '--format', 'json', '--seed', '5'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const some = await sink.waitFor(() => runItems(sink, service).spans.length >= 20, scaled(15000));
  assert.ok(some, 'no spans arrived while gen was running');
  child.kill('SIGTERM');
  const res = await exited;
  assert.deepEqual(res, { code: 0, signal: null }, stderr);
  assert.match(stderr, /stopped by SIGTERM/);
  const summary = JSON.parse(stdout);
  assert.ok(summary.accepted.traces > 0);
  const got = await sink.waitFor(() => runItems(sink, service).spans.length >= summary.accepted.spans, scaled(10000));
  assert.ok(got);
  await sleep(300);
  assert.equal(runItems(sink, service).spans.length, summary.accepted.spans);
});
