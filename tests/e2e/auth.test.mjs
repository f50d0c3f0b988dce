// auth.test.mjs — authentication end to end: `bearertokenauth` and `basicauth` on both receiver
// protocols and on both exporters, against a real llmotlp process.
// The one idea: every check is black box and paired. A request without, or with a wrong,
// credential must get 401 (with WWW-Authenticate) or UNAUTHENTICATED and leave no trace
// downstream; the same request with the right credential must arrive at the sink intact. Raw
// clients (node:http, curl, a bare gRPC client) put exactly the header under test on the wire;
// the official JS SDK exporters show that a real sender's `headers` / `metadata` work. On the way
// out, the sinks record what llmotlp sent, so the test reads the Authorization header itself,
// before and after the token file is rotated under the running process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import grpc from '@grpc/grpc-js';
import { trace, ROOT_CONTEXT } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor, InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { binaryPath, Llmotlp, stopLlmotlp } from './lib/llmotlp.mjs';
import { Sink } from './lib/sink.mjs';
import { HttpSink } from './lib/httpsink.mjs';
import { freePort, waitForPort } from './lib/ports.mjs';
import { httpRequest, postOtlp, curl, memoryOf } from './lib/httpclient.mjs';
import { traceRequest } from './lib/requests.mjs';
import { exportPath } from './lib/proto.mjs';
import { parseExposition, sumOf } from './lib/prometheus.mjs';
import { SLOW, scaled, sleep } from './lib/util.mjs';

// A bcrypt entry made by libxcrypt (cost 5) for "s3cret-pass", as `htpasswd -B` makes them.
const BCRYPT = '$2y$05$o32pjrFRuHfwUfuEBhq5eeHR3DEujcNAxUeBv2A3fx.60CENBhZ9W';
const basic = (user, pass) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

/** Start llmotlp on `yaml` (a function of the ports), wait for its listeners. */
async function start(yaml, { http = true, env } = {}) {
  const bin = binaryPath();
  const ports = { grpc: await freePort(), http: http ? await freePort() : 0, metrics: await freePort() };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmotlp-auth-'));
  const configPath = path.join(dir, 'config.yaml');
  const logPath = path.join(dir, 'llmotlp.log');
  fs.writeFileSync(configPath, yaml(ports, dir));
  const logFd = fs.openSync(logPath, 'a');
  const proc = spawn(bin, ['--config', configPath], { stdio: ['ignore', logFd, logFd], env: { ...process.env, ...env } });
  fs.closeSync(logFd);
  const h = new Llmotlp(proc, { port: ports.grpc, metricsPort: ports.metrics, dir, logPath, configPath });
  h.httpPort = ports.http;
  const stop = () => h.exit !== null;
  let up = await waitForPort(ports.grpc, scaled(15000), stop);
  if (up && http) up = await waitForPort(ports.http, scaled(15000), stop);
  if (!up) {
    h.dumpLog('did not start');
    await h.kill();
    throw new Error(`llmotlp did not start\n${fs.readFileSync(configPath, 'utf8')}`);
  }
  return h;
}

/** Writes a file atomically (temp + rename), as a secret rotation does. */
function rotate(file, text) {
  fs.writeFileSync(`${file}.tmp`, text);
  fs.renameSync(`${file}.tmp`, file);
}

/** One raw gRPC Export with the given metadata; resolves {code, details}. */
function grpcCall(endpoint, bytes, md = {}) {
  const client = new grpc.Client(endpoint, grpc.credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.max_send_message_length': 64 << 20,
  });
  const meta = new grpc.Metadata();
  for (const [k, v] of Object.entries(md)) meta.set(k, v);
  return new Promise((resolve) => {
    client.makeUnaryRequest(exportPath('traces'), (b) => b, (b) => b, bytes, meta,
      { deadline: Date.now() + scaled(10000) }, (err) => {
        client.close();
        resolve(err ? { code: err.code, details: err.details } : { code: grpc.status.OK, details: '' });
      });
  });
}

/** Spans made by the SDK, for its exporters to send. */
function sdkSpans(tag, n = 3) {
  const mem = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'llm-gateway' }),
    spanProcessors: [new SimpleSpanProcessor(mem)],
  });
  const tracer = provider.getTracer('auth-e2e');
  const root = tracer.startSpan(`root ${tag}`, { attributes: { 'e2e.tag': tag } });
  const ctx = trace.setSpan(ROOT_CONTEXT, root);
  for (let i = 1; i < n; i++) tracer.startSpan(`child ${tag} ${i}`, { attributes: { 'e2e.tag': tag } }, ctx).end();
  root.end();
  return mem.getFinishedSpans();
}

/** Export with an SDK exporter; resolves {code (0 = success), error}. */
function sdkExport(exporter, spans) {
  return new Promise((resolve) => exporter.export(spans, (r) => resolve({ code: r.code, error: r.error?.message ?? '' })));
}

function tagOf(item) {
  const a = (item.span.attributes ?? []).find((kv) => kv.key === 'e2e.tag');
  return a?.value?.string_value;
}

async function unauthenticatedCount(h) {
  const res = await fetch(h.metricsUrl);
  const { samples } = parseExposition(await res.text());
  return {
    grpc: sumOf(samples, 'llmotlp_receiver_unauthenticated_requests', { transport: 'grpc' }),
    http: sumOf(samples, 'llmotlp_receiver_unauthenticated_requests', { transport: 'http' }),
  };
}

// `auth(dir)` gives the YAML of one extension ("  <id>:\n    ..."); both protocols use it.
const receiverYaml = (auth, exporterYaml) => (p, dir) => {
  const ext = auth(dir);
  const id = ext.match(/^\s*([^:\s]+):/)[1];
  return `
extensions:
${ext}
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:${p.grpc}
        auth: {authenticator: ${id}}
      http:
        endpoint: 127.0.0.1:${p.http}
        auth: {authenticator: ${id}}
exporters:
${exporterYaml}
service:
  extensions: [${id}]
  telemetry: {logs: {level: debug}, metrics: {address: 127.0.0.1:${p.metrics}}}
  pipelines:
    traces: {receivers: [otlp], exporters: [otlp]}
`;
};

const toSink = (sink) => `  otlp:
    endpoint: ${sink.endpoint}
    tls: {insecure: true}
    retry_on_failure: {initial_interval: 100ms, max_interval: 200ms}`;

test('bearertokenauth on both protocols: missing or wrong token refused before the body, right token delivered, file rotation honoured', async (t) => {
  const sink = await new Sink().start();
  let tokenFile;
  const h = await start(receiverYaml((dir) => {
    tokenFile = path.join(dir, 'token');
    fs.writeFileSync(tokenFile, 'tok-one\n');
    return `  bearertokenauth/server:\n    filename: ${tokenFile}`;
  }, toSink(sink)));
  t.after(async () => {
    await h.kill();
    await sink.stop();
  });
  try {
    const endpoint = `127.0.0.1:${h.port}`;
    // gRPC, raw: no metadata, a wrong token, a wrong scheme; then the right one
    const bad = [{}, { authorization: 'Bearer tok-two' }, { authorization: 'Basic tok-one' }, { authorization: 'tok-one' }];
    for (const md of bad) {
      const r = await grpcCall(endpoint, traceRequest({ tag: 'grpc-bad' }).bytes, md);
      assert.equal(r.code, grpc.status.UNAUTHENTICATED, `gRPC ${JSON.stringify(md)}: ${r.details}`);
    }
    const good = traceRequest({ tag: 'grpc-good', n: 4 });
    assert.equal((await grpcCall(endpoint, good.bytes, { authorization: 'Bearer tok-one' })).code, grpc.status.OK);

    // HTTP, raw (node:http and curl): 401 with the challenge, and a Status body
    const body = traceRequest({ tag: 'http-bad' }).bytes;
    for (const headers of [{}, { Authorization: 'Bearer tok-two' }, { Authorization: 'Bearer tok-one ' }]) {
      const r = await postOtlp(h.httpUrl, 'traces', body, { headers });
      assert.equal(r.status, 401, `HTTP ${JSON.stringify(headers)}`);
      assert.equal(r.headers['www-authenticate'], 'Bearer');
    }
    const c = await curl(['-X', 'POST', '-H', 'Content-Type: application/json', '-H', 'Authorization: Bearer nope',
      '--data-binary', '{}', `${h.httpUrl}/v1/traces`]);
    assert.equal(c.status, 401);
    const httpGood = traceRequest({ tag: 'http-good', n: 5 });
    assert.equal((await postOtlp(h.httpUrl, 'traces', httpGood.bytes, { headers: { Authorization: 'Bearer tok-one' } })).status, 200);

    // the official SDK exporters with headers / metadata
    const meta = new grpc.Metadata();
    meta.set('authorization', 'Bearer tok-one');
    const wrongMeta = new grpc.Metadata();
    wrongMeta.set('authorization', 'Bearer tok-x');
    const sdkGrpc = new GrpcTraceExporter({ url: h.url, metadata: meta, timeoutMillis: scaled(10000) });
    const sdkGrpcWrong = new GrpcTraceExporter({ url: h.url, metadata: wrongMeta, timeoutMillis: scaled(10000) });
    const sdkHttp = new ProtoTraceExporter({ url: `${h.httpUrl}/v1/traces`, headers: { Authorization: 'Bearer tok-one' }, timeoutMillis: scaled(10000) });
    const sdkHttpWrong = new ProtoTraceExporter({ url: `${h.httpUrl}/v1/traces`, headers: { Authorization: 'Bearer tok-x' }, timeoutMillis: scaled(10000) });
    assert.equal((await sdkExport(sdkGrpc, sdkSpans('sdk-grpc-good'))).code, 0);
    assert.equal((await sdkExport(sdkHttp, sdkSpans('sdk-http-good'))).code, 0);
    const wg = await sdkExport(sdkGrpcWrong, sdkSpans('sdk-grpc-bad'));
    assert.notEqual(wg.code, 0);
    assert.match(wg.error, /UNAUTHENTICATED|Unauthenticated|16/);
    const wh = await sdkExport(sdkHttpWrong, sdkSpans('sdk-http-bad'));
    assert.notEqual(wh.code, 0);
    assert.match(wh.error, /401|Unauthorized/);
    for (const e of [sdkGrpc, sdkGrpcWrong, sdkHttp, sdkHttpWrong]) await e.shutdown();

    // only the authenticated requests arrived, whole
    const want = { 'grpc-good': 4, 'http-good': 5, 'sdk-grpc-good': 3, 'sdk-http-good': 3 };
    const total = Object.values(want).reduce((a, b) => a + b, 0);
    await sink.waitFor((s) => s.spans().length >= total, scaled(10000));
    await sleep(300);
    const got = {};
    for (const s of sink.spans()) got[tagOf(s)] = (got[tagOf(s)] ?? 0) + 1;
    assert.deepEqual(got, want);
    const counts = await unauthenticatedCount(h);
    assert.equal(counts.grpc, bad.length + 1);
    assert.equal(counts.http, 3 + 1 + 1);

    // rotation: the file is replaced while running; within the poll interval (1 s) the new
    // token is in and the old one out, on both protocols, without a restart
    rotate(tokenFile, 'tok-two\n');
    await sleep(2000); // past any look at the file in progress when it was replaced
    await postOtlp(h.httpUrl, 'traces', traceRequest({ tag: 'poll' }).bytes, { headers: { Authorization: 'Bearer tok-two' } });
    assert.equal((await grpcCall(endpoint, traceRequest({ tag: 'rot-old' }).bytes, { authorization: 'Bearer tok-one' })).code, grpc.status.UNAUTHENTICATED);
    assert.equal((await postOtlp(h.httpUrl, 'traces', traceRequest({ tag: 'rot-old' }).bytes, { headers: { Authorization: 'Bearer tok-one' } })).status, 401);
    assert.equal((await grpcCall(endpoint, traceRequest({ tag: 'rot-new', n: 2 }).bytes, { authorization: 'Bearer tok-two' })).code, grpc.status.OK);
    assert.equal((await postOtlp(h.httpUrl, 'traces', traceRequest({ tag: 'rot-new', n: 2 }).bytes, { headers: { Authorization: 'Bearer tok-two' } })).status, 200);
    await sink.waitFor((s) => s.spans().filter((x) => tagOf(x) === 'rot-new').length >= 4, scaled(10000));
    assert.equal(sink.spans().filter((x) => tagOf(x) === 'rot-old').length, 0);
    assert.match(h.log(), /refused unauthenticated (gRPC|HTTP) request/);
    assert.doesNotMatch(h.log(), /tok-one|tok-two/, 'a token appeared in the log');
    assert.deepEqual(await stopLlmotlp(h), { code: 0, signal: null });
  } catch (err) {
    h.dumpLog(err.message);
    throw err;
  }
});

test('unauthenticated large requests are refused without being buffered', async (t) => {
  const sink = await new Sink().start();
  // Under ASan, freed memory waits in a quarantine instead of being reused, so the peak would
  // count every byte the transport read and dropped; without the quarantine it counts what is held.
  // Likewise the service keeps freed memory mapped for the next request (up to 32 MiB per malloc
  // arena, README "memory_limiter"), so each arena's peak would stay counted: glibc's own
  // thresholds (what memory_limiter sets) make the peak count what is held.
  const env = {
    ASAN_OPTIONS: [process.env.ASAN_OPTIONS, 'quarantine_size_mb=0'].filter(Boolean).join(':'),
    GLIBC_TUNABLES: 'glibc.malloc.perturb=0', // glibc's default; naming malloc turns the policy off
  };
  const h = await start(receiverYaml(() => '  bearertokenauth/server:\n    token: big-secret', toSink(sink)), { env });
  t.after(async () => {
    await h.kill();
    await sink.stop();
  });
  try {
    const endpoint = `127.0.0.1:${h.port}`;
    const big = traceRequest({ tag: 'big', padBytes: 3 << 20 }).bytes; // 3 MiB, under the 4 MiB limit
    const before = memoryOf(h.proc.pid);
    const t0 = Date.now();
    const results = await Promise.all(Array.from({ length: 16 }, () => grpcCall(endpoint, big, { authorization: 'Bearer wrong' })));
    for (const r of results) assert.equal(r.code, grpc.status.UNAUTHENTICATED);
    const httpResults = [];
    for (let i = 0; i < 8; i++) httpResults.push(await postOtlp(h.httpUrl, 'traces', big, { headers: { Authorization: 'Bearer wrong' } }));
    for (const r of httpResults) assert.equal(r.status, 401);
    const after = memoryOf(h.proc.pid);
    const grewMiB = (after.hwm - before.rss) / (1 << 20);
    // 24 requests of 3 MiB, 16 of them at once: had their bodies been kept, even one at a time,
    // the peak would grow by at least 3 MiB; the 16 together, by 48 MiB. The sanitizer's
    // allocator (redzones, per-size caches) gets more room, still far under one body per call.
    t.diagnostic(`24 unauthenticated 3 MiB requests: peak RSS +${grewMiB.toFixed(2)} MiB in ${Date.now() - t0} ms`);
    assert.ok(grewMiB < (SLOW ? 16 : 3), `peak RSS grew by ${grewMiB.toFixed(1)} MiB (${before.rss} -> ${after.hwm} bytes) in ${Date.now() - t0} ms`);
    assert.equal(sink.spans().length, 0);
    // and the right token still gets the same bytes through
    assert.equal((await grpcCall(endpoint, big, { authorization: 'Bearer big-secret' })).code, grpc.status.OK);
    await sink.waitFor((s) => s.spans().length === 3, scaled(10000));
    assert.deepEqual(await stopLlmotlp(h), { code: 0, signal: null });
  } catch (err) {
    h.dumpLog(err.message);
    throw err;
  }
});

test('basicauth (htpasswd with bcrypt and plain entries) on both protocols', async (t) => {
  const sink = await new Sink().start();
  const h = await start(receiverYaml(() => `  basicauth/server:
    htpasswd:
      inline: |
        alice:${BCRYPT}
        bob:plain-pass`, toSink(sink)));
  t.after(async () => {
    await h.kill();
    await sink.stop();
  });
  try {
    const endpoint = `127.0.0.1:${h.port}`;
    const cases = [
      [basic('alice', 's3cret-pass'), true],
      [basic('bob', 'plain-pass'), true],
      [basic('alice', 'wrong'), false],
      [basic('mallory', 's3cret-pass'), false],
      ['Bearer s3cret-pass', false],
      [undefined, false],
    ];
    let delivered = 0;
    for (const [auth, ok] of cases) {
      const md = auth ? { authorization: auth } : {};
      const r = await grpcCall(endpoint, traceRequest({ tag: ok ? 'ok' : 'bad' }).bytes, md);
      assert.equal(r.code, ok ? grpc.status.OK : grpc.status.UNAUTHENTICATED, `gRPC ${auth}: ${r.details}`);
      const headers = auth ? { Authorization: auth } : {};
      const hr = await postOtlp(h.httpUrl, 'traces', traceRequest({ tag: ok ? 'ok' : 'bad' }).bytes, { headers });
      assert.equal(hr.status, ok ? 200 : 401, `HTTP ${auth}`);
      if (!ok) assert.match(hr.headers['www-authenticate'], /^Basic realm=/);
      if (ok) delivered += 6;
    }
    // the SDK's HTTP exporter with Basic credentials
    const sdkHttp = new ProtoTraceExporter({ url: `${h.httpUrl}/v1/traces`, headers: { Authorization: basic('alice', 's3cret-pass') } });
    assert.equal((await sdkExport(sdkHttp, sdkSpans('ok'))).code, 0);
    await sdkHttp.shutdown();
    delivered += 3;
    await sink.waitFor((s) => s.spans().length >= delivered, scaled(10000));
    await sleep(200);
    assert.equal(sink.spans().length, delivered);
    assert.ok(sink.spans().every((s) => tagOf(s) === 'ok'));
    assert.deepEqual(await stopLlmotlp(h), { code: 0, signal: null });
  } catch (err) {
    h.dumpLog(err.message);
    throw err;
  }
});

test('exporters send the authenticator header: otlp and otlphttp, bearer token and basic password files rotated', async (t) => {
  const sink = await new Sink().start();
  const httpSink = await new HttpSink().start();
  let tokenFile;
  let passwordFile;
  const h = await start((p, dir) => {
    tokenFile = path.join(dir, 'token');
    fs.writeFileSync(tokenFile, 'out-one\n');
    passwordFile = path.join(dir, 'password');
    fs.writeFileSync(passwordFile, 'pa:ss w0rd\n');
    return `
extensions:
  bearertokenauth/out:
    filename: ${tokenFile}
  basicauth/out:
    client_auth: {username: exporter, password_file: ${passwordFile}}
receivers:
  otlp:
    protocols:
      grpc: {endpoint: 127.0.0.1:${p.grpc}}
exporters:
  otlp/bearer:
    endpoint: ${sink.endpoint}
    tls: {insecure: true}
    headers: {authorization: "Bearer overridden"}
    auth: {authenticator: bearertokenauth/out}
  otlphttp/bearer:
    endpoint: ${httpSink.url}
    auth: {authenticator: bearertokenauth/out}
  otlphttp/basic:
    endpoint: ${httpSink.url}
    traces_endpoint: ${httpSink.url}/v1/traces?basic
    auth: {authenticator: basicauth/out}
service:
  extensions: [bearertokenauth/out, basicauth/out]
  telemetry: {metrics: {address: 127.0.0.1:${p.metrics}}}
  pipelines:
    traces: {receivers: [otlp], exporters: [otlp/bearer, otlphttp/bearer, otlphttp/basic]}
`;
  }, { http: false });
  t.after(async () => {
    await h.kill();
    await sink.stop();
    await httpSink.stop();
  });
  try {
    const endpoint = `127.0.0.1:${h.port}`;
    assert.equal((await grpcCall(endpoint, traceRequest({ tag: 'one' }).bytes)).code, grpc.status.OK);
    await sink.waitFor((s) => s.accepted('traces').length >= 1, scaled(10000));
    const waitHttp = (n) => httpSink.waitFor((s) => s.accepted('traces').length >= n, scaled(10000));
    await waitHttp(2);
    assert.equal(sink.accepted('traces')[0].metadata.authorization, 'Bearer out-one');
    const byUrl = (u) => httpSink.accepted('traces').filter((c) => c.url.includes('?basic') === u);
    assert.equal(byUrl(false)[0].headers.authorization, 'Bearer out-one');
    assert.equal(byUrl(true)[0].headers.authorization, basic('exporter', 'pa:ss w0rd'));

    // rotate: the next exports carry the new token and password, without a restart
    rotate(tokenFile, 'out-two\n');
    rotate(passwordFile, 'second password\n');
    // the files are looked at once a second at most: two seconds is past any check in progress
    // when they were replaced, even on a loaded machine
    await sleep(2000);
    assert.equal((await grpcCall(endpoint, traceRequest({ tag: 'two' }).bytes)).code, grpc.status.OK);
    // The calls that carry the second request (not merely the last calls: a slow build may
    // have resent the first one after a timeout, with the first credentials, as it should).
    const hasTag = (req, tag) => (req?.resource_spans ?? []).some((rs) => (rs.scope_spans ?? []).some((ss) =>
      (ss.spans ?? []).some((sp) => (sp.attributes ?? []).some((a) => a.key === 'e2e.tag' && a.value?.string_value === tag))));
    const grpcTwo = () => sink.accepted('traces').filter((c) => hasTag(c.request, 'two'));
    const httpTwo = (u) => byUrl(u).filter((c) => hasTag(c.request, 'two'));
    await sink.waitFor(() => grpcTwo().length >= 1, scaled(10000));
    await httpSink.waitFor(() => httpTwo(false).length >= 1 && httpTwo(true).length >= 1, scaled(10000));
    for (const c of grpcTwo()) assert.equal(c.metadata.authorization, 'Bearer out-two');
    for (const c of httpTwo(false)) assert.equal(c.headers.authorization, 'Bearer out-two');
    for (const c of httpTwo(true)) assert.equal(c.headers.authorization, basic('exporter', 'second password'));
    assert.deepEqual(await stopLlmotlp(h), { code: 0, signal: null });
  } catch (err) {
    h.dumpLog(err.message);
    throw err;
  }
});

test('llmotlp to llmotlp: the exporter authenticates to a receiver that requires it', async (t) => {
  const sink = await new Sink().start();
  const back = await start(receiverYaml(() => '  bearertokenauth/server:\n    tokens: [chain-a, chain-b]', toSink(sink)));
  const front = await start((p) => `
extensions:
  bearertokenauth/client: {token: chain-b}
receivers:
  otlp:
    protocols:
      grpc: {endpoint: 127.0.0.1:${p.grpc}}
exporters:
  otlp:
    endpoint: 127.0.0.1:${back.port}
    tls: {insecure: true}
    auth: {authenticator: bearertokenauth/client}
  otlphttp:
    endpoint: ${back.httpUrl}
    auth: {authenticator: bearertokenauth/client}
service:
  extensions: [bearertokenauth/client]
  telemetry: {metrics: {address: 127.0.0.1:${p.metrics}}}
  pipelines:
    traces: {receivers: [otlp], exporters: [otlp, otlphttp]}
`, { http: false });
  t.after(async () => {
    await front.kill();
    await back.kill();
    await sink.stop();
  });
  try {
    const req = traceRequest({ tag: 'chain', n: 5 });
    assert.equal((await grpcCall(`127.0.0.1:${front.port}`, req.bytes)).code, grpc.status.OK);
    // one copy over gRPC, one over HTTP, both authenticated at the back
    await sink.waitFor((s) => s.spans().length >= 10, scaled(10000));
    assert.equal(sink.spans().length, 10);
    const counts = await unauthenticatedCount(back);
    assert.deepEqual(counts, { grpc: 0, http: 0 });
    assert.deepEqual(await stopLlmotlp(front), { code: 0, signal: null });
    assert.deepEqual(await stopLlmotlp(back), { code: 0, signal: null });
  } catch (err) {
    front.dumpLog(err.message);
    back.dumpLog(err.message);
    throw err;
  }
});

test('config errors name the authenticator key with file:line', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmotlp-auth-'));
  const file = path.join(dir, 'bad.yaml');
  fs.writeFileSync(file, `extensions:
  basicauth/client:
    client_auth: {username: u, password: p}
receivers:
  otlp:
    protocols:
      grpc:
        auth:
          authenticator: basicauth/client
exporters:
  debug: {}
service:
  extensions: [basicauth/client]
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
`);
  const r = await new Promise((resolve) => {
    const p = spawn(binaryPath(), ['validate', '--config', file]);
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('exit', (code) => resolve({ code, out }));
  });
  assert.notEqual(r.code, 0);
  assert.match(r.out, /bad\.yaml:9:\d+: receiver 'otlp': protocols\.grpc\.auth\.authenticator: extension 'basicauth\/client' cannot authenticate incoming requests/);
});
