// loadbalancing.test.mjs — llmotlp as a routing tier (otlp receiver -> loadbalancing exporter,
// static resolver) in front of three llmotlp tail samplers (keep every error trace + 10% of the
// rest), each exporting to its own OTLP sink.
// The one idea: traces are sent span by span, interleaved, several traces per request, so only a
// router that sends every span of a trace to the same sampler lets the samplers decide on whole
// traces; the test then knows exactly what must arrive where — every error trace, the non-error
// traces the Collector's probabilistic hash keeps, each whole, at the one sampler the Collector's
// hash ring (recomputed here with crc32) picks for its trace ID — and checks that, including
// across a sampler stopped and restarted on the same port while the router holds its share.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { Sink } from './lib/sink.mjs';
import { startLlmotlp } from './lib/llmotlp.mjs';
import { freePort } from './lib/ports.mjs';
import { scrape, sumOf } from './lib/prometheus.mjs';
import { hex, scaled, sleep } from './lib/util.mjs';
import {
  Sender,
  arrivedSpans,
  byTrace,
  collectorKeeps,
  makeTrace,
  pool,
  startWithConfigFile,
  tsConfig,
} from './lib/tailsampling.mjs';

const POLICIES = [
  { name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } },
  { name: 'sample-10', type: 'probabilistic', probabilistic: { sampling_percentage: 10 } },
];
// A wave of WAVE traces is sent in well under DECISION_WAIT even on a loaded machine, so every
// span of a trace reaches its sampler before the sampler decides.
const DECISION_WAIT_S = 5;
const DECISION_WAIT = `${DECISION_WAIT_S}s`;
const WAVE = 25;
const SPANS_PER_TRACE = 4;

// ---- the Collector's ring, from its description (consistent_hashing.go) -----------------------

function ringOf(endpoints) {
  const sorted = [...endpoints].sort();
  const owner = new Map();
  for (const ep of sorted)
    for (let i = 0; i < 100; i++) {
      const pos = zlib.crc32(Buffer.concat([Buffer.from(ep), Buffer.from([i])])) % 36000;
      if (!owner.has(pos)) owner.set(pos, ep);
    }
  const positions = [...owner.keys()].sort((a, b) => a - b);
  return (key) => {
    const h = zlib.crc32(key) % 36000;
    const p = positions.find((x) => x >= h) ?? positions[0];
    return owner.get(p);
  };
}

// ---- the two tiers -----------------------------------------------------------------------------

async function startSampler(sink, receiverPort) {
  return startLlmotlp(
    tsConfig({ decisionWait: DECISION_WAIT, policies: POLICIES }, {
      exporterEndpoint: sink.endpoint,
      receiverPort,
      logLevel: 'info',
      maxElapsedTime: '0s',
    }),
  );
}

function routerYaml({ port, metricsPort, backends, dns }) {
  return [
    'receivers:',
    '  otlp:',
    '    protocols:',
    '      grpc:',
    `        endpoint: 127.0.0.1:${port}`,
    'exporters:',
    '  loadbalancing:',
    '    routing_key: traceID',
    '    protocol:',
    '      otlp:',
    '        tls:',
    '          insecure: true',
    '        timeout: 5s',
    '        retry_on_failure:',
    '          initial_interval: 100ms',
    '          max_interval: 500ms',
    '          max_elapsed_time: 0s',
    '        sending_queue:',
    '          num_consumers: 4',
    '          queue_size: 5000',
    '    resolver:',
    ...(dns
      ? ['      dns:', `        hostname: ${dns.hostname}`, `        port: "${dns.port}"`, `        interval: ${dns.interval}`]
      : ['      static:', `        hostnames: [${backends.join(', ')}]`]),
    'service:',
    '  telemetry:',
    '    logs:',
    '      level: info',
    '    metrics:',
    `      address: 127.0.0.1:${metricsPort}`,
    '  pipelines:',
    '    traces:',
    '      receivers: [otlp]',
    '      exporters: [loadbalancing]',
    '',
  ].join('\n');
}

async function startTiers() {
  const sinks = [new Sink(), new Sink(), new Sink()];
  for (const s of sinks) await s.start();
  const samplers = [];
  for (const s of sinks) samplers.push(await startSampler(s));
  const port = await freePort();
  const metricsPort = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmotlp-lb-'));
  const configPath = path.join(dir, 'router.yaml');
  const backends = samplers.map((s) => s.endpoint);
  fs.writeFileSync(configPath, routerYaml({ port, metricsPort, backends }));
  const router = await startWithConfigFile(configPath, { port, metricsPort });
  return { sinks, samplers, router, backends, ring: ringOf(backends) };
}

async function stopTiers({ sinks, samplers, router }) {
  // every process exits cleanly (a sanitizer report would make the exit code non-zero)
  const exits = [await router.terminate()];
  for (const s of samplers) exits.push(await s.terminate());
  for (const s of sinks) await s.stop();
  for (const e of exits) assert.equal(e?.code, 0, `exit ${JSON.stringify(e)}`);
}

/**
 * `n` traces of SPANS_PER_TRACE spans (every fourth with one error span), sent with their spans
 * shuffled together and cut into requests of 1 to 3 spans: a request mixes traces, a trace spans
 * several requests.
 */
async function sendWave(sender, n, tag) {
  const traces = [];
  for (let i = 0; i < n; i++) {
    const errorAt = i % 4 === 0 ? 1 + (i % (SPANS_PER_TRACE - 1)) : -1;
    traces.push(makeTrace({ traceId: crypto.randomBytes(16), n: SPANS_PER_TRACE, tag, errorAt }));
  }
  const spans = traces.flatMap((t) => t.spans);
  for (let i = spans.length - 1; i > 0; i--) {
    const j = crypto.randomInt(i + 1);
    [spans[i], spans[j]] = [spans[j], spans[i]];
  }
  const requests = [];
  for (let i = 0; i < spans.length; ) {
    const k = 1 + crypto.randomInt(3);
    requests.push(spans.slice(i, i + k));
    i += k;
  }
  await pool(requests, 8, (req) => sender.sendSpans(req));
  return traces;
}

/** Where each trace's spans arrived: hex -> Map(sink index -> spans). */
function arrivals(sinks) {
  const where = new Map();
  sinks.forEach((sink, i) => {
    for (const [tid, spans] of byTrace(arrivedSpans(sink))) {
      if (!where.has(tid)) where.set(tid, new Map());
      where.get(tid).set(i, spans);
    }
  });
  return where;
}

/** What must arrive: every error trace, and the rest the Collector's 10% hash keeps. */
const mustKeep = (t) => t.spans.some((s) => s.status.code === 2) || collectorKeeps(t.traceId, 10);

async function waitForExpected(sinks, traces) {
  const want = traces.filter(mustKeep).reduce((n) => n + SPANS_PER_TRACE, 0);
  const total = () => sinks.reduce((n, s) => n + arrivedSpans(s).length, 0);
  const end = Date.now() + scaled(60000);
  while (total() < want && Date.now() < end) await sleep(100);
  // the samplers decide every trace after decision_wait; wait past it so a wrongly kept trace
  // (or a duplicate) would be seen too
  await sleep(scaled(DECISION_WAIT_S * 1000 + 1500));
}

function checkRouting({ sinks, backends, ring }, traces) {
  const where = arrivals(sinks);
  const sent = new Map(traces.map((t) => [t.hex, t]));
  let errors = 0;
  let kept = 0;
  let nonError = 0;
  const perSink = [0, 0, 0];
  for (const t of traces) {
    const isError = t.spans.some((s) => s.status.code === 2);
    if (!isError) nonError++;
    const got = where.get(t.hex);
    if (!mustKeep(t)) {
      assert.equal(got, undefined, `trace ${t.hex} (no error, outside the 10%) should be dropped`);
      continue;
    }
    assert.ok(got, `trace ${t.hex} (${isError ? 'error' : 'in the 10%'}) never arrived`);
    assert.equal(got.size, 1, `trace ${t.hex} arrived at samplers ${[...got.keys()]}: split`);
    const [[idx, spans]] = [...got];
    // at the sampler the Collector's ring picks for this trace ID
    assert.equal(backends[idx], ring(t.traceId), `trace ${t.hex} at the wrong sampler`);
    // whole: every span once, nothing else
    const ids = spans.map((a) => hex(a.span.span_id)).sort();
    const want = t.spans.map((s) => hex(s.span_id)).sort();
    assert.deepEqual(ids, want, `trace ${t.hex} not whole or duplicated at sampler ${idx}`);
    perSink[idx]++;
    if (isError) errors++;
    else kept++;
  }
  for (const tid of where.keys()) assert.ok(sent.has(tid), `unknown trace ${tid} arrived`);
  return { errors, kept, nonError, perSink };
}

test('two tiers: every trace whole at the one sampler the ring picks, errors kept, ~10% of the rest', async () => {
  const tiers = await startTiers();
  const sender = new Sender(tiers.router.endpoint);
  try {
    const traces = [];
    for (let w = 0; w < 16; w++) traces.push(...(await sendWave(sender, WAVE, `wave-${w}`)));
    await waitForExpected(tiers.sinks, traces);
    const r = checkRouting(tiers, traces);
    assert.equal(r.errors, traces.filter((t) => t.spans.some((s) => s.status.code === 2)).length);
    const ratio = r.kept / r.nonError;
    assert.ok(ratio > 0.03 && ratio < 0.2, `kept ${r.kept} of ${r.nonError} non-error traces`);
    for (const n of r.perSink) assert.ok(n > 0, `a sampler got no trace: ${r.perSink}`);
    const m = (await scrape(tiers.router.metricsUrl)).samples;
    assert.equal(sumOf(m, 'otelcol_loadbalancer_num_backends', { resolver: 'static' }), 3);
    for (const b of tiers.backends)
      assert.ok(sumOf(m, 'otelcol_loadbalancer_backend_outcome', { endpoint: b, success: 'true' }) > 0);
  } catch (e) {
    tiers.router.dumpLog('two tiers');
    throw e;
  } finally {
    sender.close();
    await stopTiers(tiers);
  }
});

test('a sampler stopped and restarted mid-run: the router holds its share, nothing acknowledged is lost', async () => {
  const tiers = await startTiers();
  const sender = new Sender(tiers.router.endpoint);
  try {
    const traces = [];
    for (let w = 0; w < 4; w++) traces.push(...(await sendWave(sender, WAVE, 'before')));
    await waitForExpected(tiers.sinks, traces);
    // sampler 1 stops (SIGTERM: it decides what it holds); its port stays the router's backend
    const port = tiers.samplers[1].port;
    const exit = await tiers.samplers[1].terminate();
    assert.ok(exit, 'sampler did not stop');
    // the router answers OK while one backend is down: its share waits in that backend's queue
    for (let w = 0; w < 8; w++) traces.push(...(await sendWave(sender, WAVE, `while-down-${w}`)));
    await sleep(scaled(1500));
    tiers.samplers[1] = await startSampler(tiers.sinks[1], port);
    for (let w = 0; w < 4; w++) traces.push(...(await sendWave(sender, WAVE, 'after')));
    await waitForExpected(tiers.sinks, traces);
    const r = checkRouting(tiers, traces);
    assert.equal(r.errors, traces.filter((t) => t.spans.some((s) => s.status.code === 2)).length);
    // the restarted sampler received the share that waited for it
    const downTraces = traces.filter((t) => /while-down/.test(t.spans[0].name) && mustKeep(t));
    const atOne = downTraces.filter((t) => tiers.ring(t.traceId) === tiers.backends[1]);
    assert.ok(atOne.length > 0, 'no kept trace of the outage was routed to the stopped sampler');
    // and those arrived after the restart, through the router's queue (checkRouting saw them
    // whole at sampler 1)
    const m = (await scrape(tiers.router.metricsUrl)).samples;
    assert.ok(sumOf(m, 'otelcol_loadbalancer_backend_outcome', { endpoint: tiers.backends[1], success: 'false' }) > 0,
      'the router never failed an attempt to the stopped sampler');
  } catch (e) {
    tiers.router.dumpLog('restart');
    throw e;
  } finally {
    sender.close();
    await stopTiers(tiers);
  }
});

test('resolver.dns: the backends of a name, resolved again every interval', async () => {
  const sink = await new Sink().start();
  const port = await freePort();
  const metricsPort = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmotlp-lb-'));
  const configPath = path.join(dir, 'router.yaml');
  // a numeric name: getaddrinfo answers it without a DNS server, on any machine
  fs.writeFileSync(configPath, routerYaml({ port, metricsPort, dns: { hostname: '127.0.0.1', port: sink.port, interval: '200ms' } }));
  const router = await startWithConfigFile(configPath, { port, metricsPort });
  const sender = new Sender(router.endpoint);
  try {
    const traces = await sendWave(sender, WAVE, 'dns');
    const want = traces.length * SPANS_PER_TRACE;
    await sink.waitFor((s) => arrivedSpans(s).length >= want, scaled(20000));
    const got = arrivedSpans(sink).map((a) => `${hex(a.span.trace_id)}/${hex(a.span.span_id)}`).sort();
    assert.deepEqual(got, traces.flatMap((t) => t.spans.map((s) => `${t.hex}/${hex(s.span_id)}`)).sort());
    // resolved at start and again on the interval; one backend, one list update
    let m;
    for (let i = 0; i < 100; i++) {
      m = (await scrape(router.metricsUrl)).samples;
      if (sumOf(m, 'otelcol_loadbalancer_num_resolutions', { resolver: 'dns', success: 'true' }) >= 3) break;
      await sleep(100);
    }
    assert.ok(sumOf(m, 'otelcol_loadbalancer_num_resolutions', { resolver: 'dns', success: 'true' }) >= 3);
    assert.equal(sumOf(m, 'otelcol_loadbalancer_num_backends', { resolver: 'dns' }), 1);
    assert.equal(sumOf(m, 'otelcol_loadbalancer_num_backend_updates', { resolver: 'dns' }), 1);
  } catch (e) {
    router.dumpLog('dns');
    throw e;
  } finally {
    sender.close();
    await router.terminate();
    await sink.stop();
  }
});
