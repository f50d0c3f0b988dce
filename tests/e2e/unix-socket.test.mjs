// unix-socket.test.mjs — the otlp receiver on `transport: unix`, for gRPC and for HTTP, with real
// clients: @grpc/grpc-js on a `unix:` target and node's http.request({socketPath}) posting a
// protobuf Export request; the spans must reach the real downstream sink.
// The one idea: the socket file's life is checked from outside, as an operator sees it: there
// while serving, gone after SIGTERM, and a file left by a SIGKILLed process does not stop the
// next start on the same path (it is replaced, being stale), while a second live instance is
// refused rather than allowed to steal the path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Sink } from './lib/sink.mjs';
import { Llmotlp, binaryPath, stopLlmotlp } from './lib/llmotlp.mjs';
import { rawClient, rawCall, status } from './lib/rawclient.mjs';
import { traceRequest } from './lib/requests.mjs';
import { exportPath } from './lib/proto.mjs';
import { scaled, sleep } from './lib/util.mjs';

function config(dir, sinkEndpoint) {
  return [
    'receivers:',
    '  otlp:',
    '    protocols:',
    '      grpc:',
    `        endpoint: ${path.join(dir, 'grpc.sock')}`,
    '        transport: unix',
    '      http:',
    `        endpoint: ${path.join(dir, 'http.sock')}`,
    '        transport: unix',
    'exporters:',
    '  otlp:',
    `    endpoint: ${sinkEndpoint}`,
    '    tls: {insecure: true}',
    '    retry_on_failure: {initial_interval: 100ms, max_interval: 1s}',
    'service:',
    '  telemetry: {logs: {level: debug}, metrics: {level: none}}',
    '  pipelines:',
    '    traces: {receivers: [otlp], exporters: [otlp]}',
    '',
  ].join('\n');
}

function canConnectUnix(socketPath) {
  return new Promise((resolve) => {
    const s = net.connect({ path: socketPath });
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** Starts llmotlp on `configPath`; resolves once both sockets accept connections. */
async function start(dir, configPath, tag) {
  const logPath = path.join(dir, `llmotlp-${tag}.log`);
  const logFd = fs.openSync(logPath, 'a');
  const proc = spawn(binaryPath(), ['--config', configPath], { stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  const llm = new Llmotlp(proc, { port: 0, metricsPort: 0, dir, logPath, configPath });
  const end = Date.now() + scaled(15000);
  while (llm.alive && Date.now() < end) {
    if ((await canConnectUnix(path.join(dir, 'grpc.sock'))) && (await canConnectUnix(path.join(dir, 'http.sock'))))
      return llm;
    await sleep(50);
  }
  llm.dumpLog('sockets never accepted connections');
  await llm.kill();
  throw new Error('llmotlp did not start on its unix sockets');
}

function postProtobuf(socketPath, urlPath, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        socketPath,
        path: urlPath,
        method: 'POST',
        headers: { 'Content-Type': 'application/x-protobuf', 'Content-Length': body.length },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const traceIds = (sink) => new Set(sink.spans().map((s) => Buffer.from(s.span.trace_id).toString('hex')));

test('unix sockets: gRPC and HTTP clients deliver through socket files that live as long as the process', async () => {
  const sink = await new Sink().start();
  // short: a socket path must fit in 107 bytes
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lu-'));
  const configPath = path.join(dir, 'config.yaml');
  fs.writeFileSync(configPath, config(dir, sink.endpoint));
  const grpcSock = path.join(dir, 'grpc.sock');
  const httpSock = path.join(dir, 'http.sock');
  let llm = await start(dir, configPath, 'first');
  try {
    assert.ok(fs.statSync(grpcSock).isSocket() && fs.statSync(httpSock).isSocket());

    // gRPC over the socket
    const client = rawClient(`unix:${grpcSock}`);
    const g = traceRequest({ n: 2, tag: 'unix-grpc' });
    assert.equal((await rawCall(client, exportPath('traces'), g.bytes)).code, status.OK);
    client.close();

    // HTTP over the socket: 200 with an ExportTraceServiceResponse in protobuf
    const h = traceRequest({ n: 3, tag: 'unix-http' });
    const res = await postProtobuf(httpSock, '/v1/traces', h.bytes);
    assert.equal(res.status, 200, `HTTP over the unix socket: ${res.status} ${res.body}`);
    assert.equal(res.headers['content-type'], 'application/x-protobuf');

    await sink.waitFor((s) => traceIds(s).has(g.traceIdHex) && traceIds(s).has(h.traceIdHex), scaled(10000));
    const ids = traceIds(sink);
    assert.ok(ids.has(g.traceIdHex), 'the gRPC request reached the sink');
    assert.ok(ids.has(h.traceIdHex), 'the HTTP request reached the sink');
    assert.equal(sink.spans().length, 5);

    // A second instance on the same paths is refused: the sockets are live.
    const second = spawn(binaryPath(), ['--config', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    second.stderr.on('data', (c) => (err += c));
    const code = await new Promise((resolve) => second.once('exit', (c) => resolve(c)));
    assert.notEqual(code, 0, 'a second instance on live sockets must not start');
    assert.match(err, /address in use/);
    assert.ok(await canConnectUnix(grpcSock), 'the first instance still serves gRPC');
    assert.ok(await canConnectUnix(httpSock), 'the first instance still serves HTTP');

    // SIGTERM: both socket files are removed, as Go's listeners remove theirs.
    assert.deepEqual(await stopLlmotlp(llm), { code: 0, signal: null });
    assert.equal(fs.existsSync(grpcSock), false, 'gRPC socket file removed at shutdown');
    assert.equal(fs.existsSync(httpSock), false, 'HTTP socket file removed at shutdown');

    // SIGKILL leaves stale files behind; the next start replaces them and serves.
    llm = await start(dir, configPath, 'killed');
    await llm.kill();
    assert.ok(fs.statSync(httpSock).isSocket(), 'a killed process leaves its socket file');
    assert.equal(await canConnectUnix(httpSock), false, 'nobody serves the stale file');
    llm = await start(dir, configPath, 'restarted');
    const r = traceRequest({ n: 1, tag: 'after-crash' });
    assert.equal((await postProtobuf(httpSock, '/v1/traces', r.bytes)).status, 200);
    await sink.waitFor((s) => traceIds(s).has(r.traceIdHex), scaled(10000));
    assert.ok(traceIds(sink).has(r.traceIdHex), 'served after replacing the stale socket');
    assert.deepEqual(await stopLlmotlp(llm), { code: 0, signal: null });
  } catch (e) {
    llm.dumpLog('test failed');
    throw e;
  } finally {
    if (llm.alive) await llm.kill();
    await sink.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
