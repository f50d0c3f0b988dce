// image.test.mjs — the llmotlp image on a real Docker engine, checked from outside as a user runs
// it: `docker run` with its ports published on 127.0.0.1, the pricing DB on a named volume,
// `docker exec` for the pricing CLI, `docker stop` to end it.
//
// The one idea: the container exports to a real OTLP/gRPC server on the host (tests/e2e's sink,
// on @grpc/grpc-js) listening on the gateway address of a user-defined network the test creates —
// the one host address a container reaches when the engine runs without iptables — so every
// claim is checked on what actually leaves the container: the span priced from the image's DB,
// the price a `pricing set` changed, the span a `docker stop` had to drain.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Sink } from '../e2e/lib/sink.mjs';
import { createSdk, shutdownSdk } from '../e2e/lib/sdk.mjs';
import { scrape, sumOf } from '../e2e/lib/prometheus.mjs';
import { readCsv, seedPrice, expectedCost, spanAttrs, assertAmount, SEED_CSV } from '../e2e/lib/genai.mjs';
import { docker, dockerAsync, inspect, published, hostAddr, dumpLogs, waitFor, get, llmSpanJson, postTraces, IMAGE, LABEL, PREFIX } from './lib.mjs';

const NET = `${PREFIX}-net`;
const VOL = `${PREFIX}-pricing`;
const FRESH_VOL = `${PREFIX}-fresh`;
const PORTS = [4317, 4318, 8889, 13133];
// @opentelemetry/api's SpanKind.CLIENT and SpanStatusCode.ERROR (the package resolves from
// tests/e2e/node_modules for the e2e lib only, not for files here)
const SPAN_KIND_CLIENT = 2;
const STATUS_ERROR = 2;
const TOKENS = { input: 1200, output: 300 };
const NEW_PRICE = { input: 5, output: 20 };

let sink;
let gateway;
let current; // the llmotlp container in use
let failed = false;
const started = [];
const listPrice = seedPrice(readCsv(SEED_CSV), 'openai', 'gpt-4o');

/** Starts an llmotlp container from the image as a user would, exporting to the sink. */
function runLlmotlp(name) {
  const args = ['run', '-d', '--name', name, '--label', LABEL, '--network', NET,
    // compose's stop_grace_period for llmotlp: the wait `docker stop` gives before SIGKILL
    '--stop-timeout', '20',
    '-v', `${VOL}:/var/lib/llmotlp`,
    '-e', 'LLMOTLP_EXPORTERS=[otlp]', '-e', `OTLP_ENDPOINT=${sink.endpoint}`];
  for (const p of PORTS) args.push('-p', `127.0.0.1::${p}`);
  docker([...args, IMAGE]);
  started.push(name);
  return name;
}

async function waitHealthy(name) {
  const addr = hostAddr(name, 13133);
  const ok = await waitFor(async () => (await get(`http://${addr}/`)).status === 200, 30000);
  if (!ok) dumpLogs(name, 'never healthy');
  assert.ok(ok, `${name}: health_check at ${addr} answers 200`);
}

/** The sink's span with this trace ID (hex), once it arrived. */
function arrived(traceId) {
  return sink.spans().find((a) => Buffer.from(a.span.trace_id).toString('hex') === traceId);
}

async function waitArrived(traceIds, what) {
  // the image's tail_sampling waits 10 s (decision_wait) before it decides a trace
  const got = await waitFor(() => {
    const spans = traceIds.map(arrived);
    return spans.every(Boolean) ? spans : null;
  }, 40000);
  assert.ok(got, `${what}: every span reached the sink`);
  return got;
}

function costOf(item) {
  return spanAttrs(item).values['gen_ai.usage.cost.amount'];
}

/** How many times a line of the container's log matches `re` (a /g regex). */
function logCount(name, re) {
  const r = docker(['logs', name], { check: false });
  return (r.stdout + r.stderr).match(re)?.length ?? 0;
}

describe('the llmotlp image', () => {
  before(async () => {
    docker(['network', 'create', '--label', LABEL, NET]);
    gateway = inspect(NET, 'network').IPAM.Config[0].Gateway;
    docker(['volume', 'create', '--label', LABEL, VOL]);
    sink = await new Sink({ host: gateway }).start();
    current = runLlmotlp(`${PREFIX}-a`);
    await waitHealthy(current);
  });

  after(async () => {
    for (const c of started) {
      if (failed) dumpLogs(c, 'a check failed');
      docker(['rm', '-f', c], { check: false });
    }
    await sink?.stop();
    docker(['volume', 'rm', VOL, FRESH_VOL], { check: false });
    docker(['network', 'rm', NET], { check: false });
  });

  test('runs as the non-root user 10001, and publishes only on 127.0.0.1', () => {
    try {
      assert.equal(inspect(current).Config.User, '10001:10001');
      assert.equal(docker(['exec', current, 'id', '-u']).stdout.trim(), '10001');
      // the service process itself, as the engine sees it
      const top = docker(['top', current, '-eo', 'pid,uid,args']).stdout.trim().split('\n').slice(1);
      const proc = top.find((l) => /llmotlp --config/.test(l));
      assert.ok(proc, `llmotlp in docker top: ${top}`);
      assert.equal(proc.trim().split(/\s+/)[1], '10001');
      for (const p of PORTS) {
        const b = published(current, p);
        assert.ok(b.length > 0 && b.every((x) => x.HostIp === '127.0.0.1'), `port ${p}: ${JSON.stringify(b)}`);
      }
    } catch (e) {
      failed = true;
      throw e;
    }
  });

  test('health_check answers 200 on the published port', async () => {
    const r = await get(`http://${hostAddr(current, 13133)}/`);
    if (r.status !== 200) failed = true;
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /Server available/);
  });

  test('an LLM span over OTLP/HTTP and one over OTLP/gRPC leave the container priced', async () => {
    try {
      const http = llmSpanJson({ name: 'chat gpt-4o http', tenant: 'acme', ...TOKENS });
      assert.equal(await postTraces(hostAddr(current, 4318), http.body), 200);

      const sdk = createSdk({ url: `http://${hostAddr(current, 4317)}`, signals: ['traces'] });
      const span = sdk.tracerProvider.getTracer('LLMProxy.LLM', '1.0.0').startSpan('chat gpt-4o grpc', {
        kind: SPAN_KIND_CLIENT,
        attributes: {
          'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o',
          'gen_ai.usage.input_tokens': TOKENS.input, 'gen_ai.usage.output_tokens': TOKENS.output, 'tenant.id': 'acme',
        },
      });
      span.setStatus({ code: STATUS_ERROR });
      span.end();
      const grpcTrace = span.spanContext().traceId;
      assert.deepEqual(await shutdownSdk(sdk), [], 'the SDK exported over gRPC without error');

      const [h, g] = await waitArrived([http.traceId, grpcTrace], 'HTTP and gRPC');
      const want = expectedCost(listPrice, TOKENS);
      assertAmount(costOf(h), want, 'span sent over OTLP/HTTP');
      assertAmount(costOf(g), want, 'span sent over OTLP/gRPC');
      assert.equal(spanAttrs(h).values['gen_ai.usage.cost.source'], 'local');
    } catch (e) {
      failed = true;
      throw e;
    }
  });

  test('the LLM metrics of those two calls are served for Prometheus on :8889', async () => {
    const url = `http://${hostAddr(current, 8889)}/metrics`;
    // llm_metrics exports every 15 s (export_interval of the image's config)
    let page;
    await waitFor(async () => {
      page = await scrape(url);
      return sumOf(page.samples, 'llmproxy_request_count_total', { tenant: 'acme' }) === 2;
    }, 40000, 1000);
    try {
      assert.equal(page.status, 200);
      assert.equal(sumOf(page.samples, 'llmproxy_request_count_total', { tenant: 'acme', status: 'error' }), 2);
      const cents = 2 * 100 * expectedCost(listPrice, TOKENS);
      const got = sumOf(page.samples, 'llmproxy_cost_estimated_total', { tenant: 'acme' });
      assert.ok(Math.abs(got - cents) <= 1e-9, `llmproxy_cost_estimated_total ${got}, want ${cents}`);
      assert.equal(sumOf(page.samples, 'llmproxy_tokens_input_total', { tenant: 'acme' }), 2 * TOKENS.input);
    } catch (e) {
      failed = true;
      throw e;
    }
  });

  test('`llmotlp pricing set` through docker exec is picked up by the running service', async () => {
    try {
      const before = logCount(current, /prices reloaded/g);
      docker(['exec', current, 'llmotlp', 'pricing', 'set', 'openai', 'gpt-4o',
        '--input', String(NEW_PRICE.input), '--output', String(NEW_PRICE.output)]);
      // the cost processor rereads the DB every 2 s (reload_interval) and says so
      const reloaded = await waitFor(() => logCount(current, /prices reloaded/g) > before, 15000, 500);
      assert.ok(reloaded, 'the service logged a reload of the prices');
      const s = llmSpanJson({ name: 'chat gpt-4o after set', tenant: 'acme', ...TOKENS });
      assert.equal(await postTraces(hostAddr(current, 4318), s.body), 200);
      const [a] = await waitArrived([s.traceId], 'after pricing set');
      assertAmount(costOf(a), expectedCost({ ...NEW_PRICE, cached: NEW_PRICE.input }, TOKENS), 'span after pricing set');
    } catch (e) {
      failed = true;
      throw e;
    }
  });

  test('the pricing DB lives on the named volume: a new container keeps the price set', async () => {
    try {
      await dockerAsync(['stop', current]);
      docker(['rm', current]);
      current = runLlmotlp(`${PREFIX}-b`);
      await waitHealthy(current);
      const list = JSON.parse(docker(['exec', current, 'llmotlp', 'pricing', 'list', '--json']).stdout);
      const p = list.find((x) => x.provider === 'openai' && x.model === 'gpt-4o' && !x.tenant);
      assert.ok(p, 'gpt-4o is priced');
      assert.deepEqual([p.input, p.output, p.origin], [NEW_PRICE.input, NEW_PRICE.output, 'operator']);
      // and an empty volume starts as a copy of the image's DB: the list price, not the one set
      const fresh = JSON.parse(docker(['run', '--rm', '--label', LABEL, '-v', `${FRESH_VOL}:/var/lib/llmotlp`,
        IMAGE, 'pricing', 'list', '--json']).stdout);
      const f = fresh.find((x) => x.provider === 'openai' && x.model === 'gpt-4o' && !x.tenant);
      assert.deepEqual([f?.input, f?.output], [listPrice.input, listPrice.output]);
    } catch (e) {
      failed = true;
      throw e;
    }
  });

  test('docker stop drains within the grace period: the span still waiting for its decision leaves priced', async () => {
    try {
      const s = llmSpanJson({ name: 'chat gpt-4o before stop', tenant: 'acme', ...TOKENS });
      assert.equal(await postTraces(hostAddr(current, 4318), s.body), 200);
      // at once, well inside the 10 s decision wait: the span is still buffered in tail_sampling
      // (not blocking: the sink it drains to runs in this process)
      await dockerAsync(['stop', current]);
      const state = inspect(current).State;
      // SIGKILL after the 20 s grace period would read 137
      assert.deepEqual([state.Status, state.ExitCode, state.OOMKilled], ['exited', 0, false]);
      const log = docker(['logs', current]);
      assert.match(log.stdout + log.stderr, /shutdown: decided [1-9]\d* pending traces/);
      const a = arrived(s.traceId) ?? (await sink.waitFor(() => arrived(s.traceId), 5000));
      assert.ok(a, 'the span accepted before docker stop reached the sink');
      assertAmount(costOf(a), expectedCost({ ...NEW_PRICE, cached: NEW_PRICE.input }, TOKENS), 'drained span');
    } catch (e) {
      failed = true;
      throw e;
    }
  });
});
