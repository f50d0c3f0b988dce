// compose.test.mjs — deploy/docker-compose.yaml brought up by Debian's docker-compose 1.29 with
// tests/container/compose.override.yaml: llmotlp and Prometheus (the services whose images can be
// built without a registry), then checked the way the stack is used: LLM traffic from the
// OpenTelemetry JS SDK into the published OTLP port, Prometheus scraping llmotlp with the
// repository's deploy/prometheus/prometheus.yml, and the Grafana dashboard's queries answered.
//
// The one idea: the figures are checked end to end against what was sent — Prometheus must hold
// exactly the number of calls the SDK exported — and every dashboard query
// (deploy/grafana/check-dashboard.mjs reads them from the JSON) must return series from that
// Prometheus, so a panel that would be empty on the real stack fails here. The `demo` profile
// (`llmotlp gen` from the same image) is brought up last and must show in Prometheus too.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createSdk, shutdownSdk } from '../e2e/lib/sdk.mjs';
import { freePort } from '../e2e/lib/ports.mjs';
import { sleep } from '../e2e/lib/util.mjs';
import { dashboardExpressions, dashboardVariableQueries, promQuery } from '../../deploy/grafana/check-dashboard.mjs';
import { run, docker, inspect, dumpLogs, waitFor, get, COMPOSE, PREFIX } from './lib.mjs';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const PROJECT = `${PREFIX}-compose`;
const FILES = ['-f', 'deploy/docker-compose.yaml', '-f', 'tests/container/compose.override.yaml'];
const SPAN_KIND_CLIENT = 2; // @opentelemetry/api's SpanKind and SpanStatusCode values
const STATUS_ERROR = 2;
const TENANTS = ['acme', 'globex', 'initech'];
const TARGETS = [['openai', 'gpt-4o'], ['anthropic', 'claude-sonnet-4-5-20250929'], ['mistral_ai', 'mistral-large-latest']];
const BURSTS = 6;
const PER_BURST = 24;

let env;
let promUrl;
let failed = false;
let sent = 0;

const compose = (args, opts = {}) => run(COMPOSE, ['-p', PROJECT, ...FILES, ...args], { cwd: ROOT, env, ...opts });
const containerOf = (service) => compose(['ps', '-q', service]).stdout.trim();

/** One burst of calls, one LLM client span (its own trace) per call. */
function burst(sdk, b) {
  const llm = sdk.tracerProvider.getTracer('LLMProxy.LLM', '2.0.0');
  for (let k = 0; k < PER_BURST; k++) {
    const i = b * PER_BURST + k;
    const tenant = TENANTS[Math.floor(i / TARGETS.length) % TENANTS.length];
    const [provider, model] = TARGETS[i % TARGETS.length];
    // mistral_ai fails every call, the others one in eight
    const error = provider === 'mistral_ai' || i % 8 === 5;
    const endMs = Date.now();
    const startMs = endMs - [30, 300, 700, 1500, 3000][i % 5];
    const attrs = {
      'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': provider, 'gen_ai.request.model': model,
      'tenant.id': tenant, 'llmproxy.ratelimit.remaining': 5000 - i,
    };
    if (!error) Object.assign(attrs, { 'gen_ai.usage.input_tokens': 100 + i, 'gen_ai.usage.output_tokens': 20 + (i % 7) });
    else attrs['error.type'] = provider === 'mistral_ai' ? '503' : '429';
    const span = llm.startSpan(`chat ${model}`, { kind: SPAN_KIND_CLIENT, startTime: startMs, attributes: attrs });
    if (error) span.setStatus({ code: STATUS_ERROR, message: 'provider error' });
    span.end(endMs);
    sent++;
  }
}

async function prom(expr) {
  const r = await promQuery(promUrl, expr);
  assert.equal(r.status, 'success', `${expr}: ${JSON.stringify(r)}`);
  return r.data.result;
}

describe('the Compose stack (llmotlp + Prometheus)', () => {
  before(async () => {
    env = {
      LLMOTLP_GRPC_PORT: String(await freePort()),
      LLMOTLP_HTTP_PORT: String(await freePort()),
      PROMETHEUS_PORT: String(await freePort()),
      LLMOTLP_TEST_NETWORK: PROJECT,
    };
    promUrl = `http://127.0.0.1:${env.PROMETHEUS_PORT}`;
  });

  after(() => {
    if (failed) {
      for (const s of ['llmotlp', 'prometheus']) {
        const id = containerOf(s);
        if (id) dumpLogs(id, `compose service ${s}, a check failed`);
      }
    }
    compose(['down', '-v', '--remove-orphans'], { check: false });
  });

  const step = (name, fn) => test(name, async () => {
    try {
      await fn();
    } catch (e) {
      failed = true;
      throw e;
    }
  });

  // llmotlp's image is the one run.sh built with `docker build` under the tag the Compose file
  // names (building it again here would compile it twice: the two clients' build contexts do not
  // share the builder's cache); Prometheus' is built here, through the override's build section.
  step('docker-compose 1.29 builds the Prometheus image of the override (build network host)', () => {
    assert.match(run(COMPOSE, ['version', '--short']).stdout, /^1\.29\./);
    compose(['build', 'prometheus'], { timeoutMs: 900000 });
    assert.ok(inspect('llmotlp-test/prometheus:debian12', 'image').Id);
    assert.ok(inspect(process.env.LLMOTLP_IMAGE ?? 'llmotlp:0.1.0', 'image').Id, 'the llmotlp image exists');
  });

  step('up --no-deps llmotlp prometheus: running, on loopback ports, with the project\'s pricing volume', async () => {
    compose(['up', '-d', '--no-deps', 'llmotlp', 'prometheus']);
    for (const s of ['llmotlp', 'prometheus']) {
      const c = inspect(containerOf(s));
      assert.equal(c.State.Status, 'running', `${s} is running`);
      for (const [port, b] of Object.entries(c.NetworkSettings.Ports)) {
        for (const x of b ?? []) assert.equal(x.HostIp, '127.0.0.1', `${s} ${port} is published on loopback only`);
      }
    }
    const mounts = inspect(containerOf('llmotlp')).Mounts;
    assert.ok(mounts.some((m) => m.Type === 'volume' && m.Name === `${PROJECT}_llmotlp-pricing` && m.Destination === '/var/lib/llmotlp'),
      `the pricing DB is on the named volume: ${JSON.stringify(mounts)}`);
    const ready = await waitFor(async () => (await get(`${promUrl}/-/ready`)).status === 200, 60000, 500);
    assert.ok(ready, 'Prometheus is ready');
  });

  step('LLM traffic into the published OTLP/gRPC port; Prometheus scrapes both llmotlp targets', async () => {
    const sdk = createSdk({ url: `http://127.0.0.1:${env.LLMOTLP_GRPC_PORT}`, signals: ['traces'] });
    // bursts 5 s apart, so successive scrapes (every 15 s) see the counters grow
    for (let b = 0; b < BURSTS; b++) {
      burst(sdk, b);
      await sdk.tracerProvider.forceFlush();
      if (b < BURSTS - 1) await sleep(5000);
    }
    assert.deepEqual(await shutdownSdk(sdk), [], 'the SDK exported every span');
    let targets;
    const up = await waitFor(async () => {
      targets = (await (await fetch(`${promUrl}/api/v1/targets`)).json()).data.activeTargets;
      return targets.length === 2 && targets.every((t) => t.health === 'up');
    }, 60000, 1000);
    assert.ok(up, `targets up: ${JSON.stringify(targets?.map((t) => [t.labels.job, t.scrapeUrl, t.health, t.lastError]))}`);
    assert.deepEqual(targets.map((t) => t.scrapeUrl).sort(), ['http://llmotlp:8888/metrics', 'http://llmotlp:8889/metrics']);
  });

  step('Prometheus holds exactly the calls sent, by tenant and status', async () => {
    // llm_metrics exports every 15 s, Prometheus scrapes every 15 s
    let total;
    await waitFor(async () => {
      total = Number((await prom('sum(llmproxy_request_count_total{job="llm-gateway"})'))[0]?.value[1]);
      return total === sent;
    }, 60000, 1000);
    assert.equal(total, sent, 'llmproxy_request_count_total in Prometheus');
    const errors = await prom('sum by (provider) (llmproxy_request_count_total{status="error"})');
    const byProvider = Object.fromEntries(errors.map((r) => [r.metric.provider, Number(r.value[1])]));
    assert.equal(byProvider.mistral_ai, sent / TARGETS.length, 'every mistral_ai call failed');
    const tenants = (await prom('sum by (tenant) (llmproxy_cost_estimated_total)')).map((r) => r.metric.tenant).sort();
    assert.deepEqual(tenants, TENANTS);
    // honor_labels: the job is the sender's service.name, not the scrape job's name
    const jobs = (await prom('count by (job) (llmproxy_request_count_total)')).map((r) => r.metric.job);
    assert.deepEqual(jobs, ['llm-gateway']);
  });

  step('the demo profile: `llmotlp gen` from the same image fills Prometheus', async () => {
    compose(['--profile', 'demo', 'up', '-d', '--no-deps', 'demo']);
    let n;
    const seen = await waitFor(async () => {
      n = Number((await prom('sum(llmproxy_request_count_total{job="LLMProxy.Gateway"})'))[0]?.value[1] ?? 0);
      return n > 0;
    }, 60000, 1000);
    assert.ok(seen, `calls of the demo's service LLMProxy.Gateway in Prometheus: ${n}`);
    assert.equal(inspect(containerOf('demo')).State.Status, 'running');
  });

  step('every query of the Grafana dashboard returns series from this Prometheus', async () => {
    const empty = [];
    for (const { panel, refId, expr } of dashboardExpressions()) {
      const res = await prom(expr);
      if (res.length === 0) empty.push(`${panel} [${refId}]: ${expr}`);
    }
    assert.deepEqual(empty, [], 'dashboard queries with no series');
    for (const { variable, selector, label } of dashboardVariableQueries()) {
      const r = await (await fetch(`${promUrl}/api/v1/label/${label}/values?${new URLSearchParams({ 'match[]': selector })}`)).json();
      assert.ok(r.status === 'success' && r.data.length > 0, `variable ${variable}: label_values(${selector}, ${label}) is empty`);
    }
  });

  step('down -v removes the containers, the network and the pricing volume', () => {
    compose(['down', '-v', '--remove-orphans']);
    assert.equal(docker(['ps', '-aq', '--filter', `label=com.docker.compose.project=${PROJECT}`]).stdout.trim(), '');
    assert.equal(docker(['volume', 'ls', '-q', '--filter', `name=${PROJECT}_`]).stdout.trim(), '');
    assert.equal(docker(['network', 'ls', '-q', '--filter', `name=^${PROJECT}$`]).stdout.trim(), '');
  });
});
