// memory_limiter_bench.mjs — peak RSS of llmotlp against offered load (1x, 5x, 10x what a slow
// backend drains), with memory_limiter on and a byte-sized sending queue far larger than the
// limit, and for contrast the same 10x without the limiter: OTLP/HTTP senders posting 256 KiB
// requests (one span, a fresh trace ID each) → llmotlp → the e2e gRPC sink holding every call
// delayMs (so capacity = num_consumers / delay).
// The one idea: the backend's capacity is fixed and known, so load is a paced request rate the
// bench sets itself; RSS is sampled from /proc every 50 ms and VmHWM gives the true peak, and the
// sink's trace IDs prove every 200 was delivered (a run that lost one is reported as such).
//
// usage: node bench/memory_limiter_bench.mjs BUILD_DIR   (needs tests/e2e/node_modules: make e2e-deps)
// env:   BENCH_SECONDS (20; each line) BENCH_LIMIT_MIB (128) BENCH_LOADS ("1,5,10")
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { Sink } from '../tests/e2e/lib/sink.mjs';
import { startLlmotlp, stopLlmotlp } from '../tests/e2e/lib/llmotlp.mjs';
import { memoryOf } from '../tests/e2e/lib/httpclient.mjs';
import { traceRequest } from '../tests/e2e/lib/requests.mjs';
import { hex, sleep } from '../tests/e2e/lib/util.mjs';

const MIB = 1024 * 1024;
const build = process.argv[2] ?? 'build';
process.env.LLMOTLP_BIN = path.resolve(build, 'llmotlp');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const LIMIT_MIB = Number(process.env.BENCH_LIMIT_MIB ?? 128);
const LOADS = (process.env.BENCH_LOADS ?? '1,5,10').split(',').map(Number);
const REQ_BYTES = 256 * 1024;
const DELAY_MS = 100;
const CONSUMERS = 2;
const CAPACITY = (CONSUMERS * 1000) / DELAY_MS;
const SENDERS = 20;

function post(agent, url, body) {
  return new Promise((resolve) => {
    const req = http.request(url, {
      method: 'POST', agent, timeout: 30000,
      headers: { 'Content-Type': 'application/x-protobuf', 'Content-Length': body.length },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

async function run(load, limiter) {
  const sink = new Sink();
  sink.delayMs = DELAY_MS;
  await sink.start();
  const llm = await startLlmotlp({
    exporterEndpoint: sink.endpoint,
    http: true,
    numConsumers: CONSUMERS,
    queueSize: 256 * MIB,
    queueSizer: 'bytes',
    maxElapsedTime: '0s',
    logLevel: 'warn',
    processors: limiter ? ['memory_limiter'] : [],
    processorsYaml: limiter
      ? `  memory_limiter:\n    check_interval: 100ms\n    limit_mib: ${LIMIT_MIB}\n    spike_limit_mib: ${LIMIT_MIB / 4}`
      : '',
  });
  const idle = memoryOf(llm.proc.pid).rss;
  const tpl = traceRequest({ n: 1, tag: 'bench', padBytes: REQ_BYTES });
  const at = tpl.bytes.indexOf(Buffer.from(tpl.traceIdHex, 'hex'));
  const delivered = new Set();
  let seen = 0;
  const drain = () => {
    for (; seen < sink.calls.length; seen++) {
      const c = sink.calls[seen];
      if (c.code === 0 && c.request)
        for (const rs of c.request.resource_spans ?? [])
          for (const ss of rs.scope_spans ?? []) for (const s of ss.spans ?? []) delivered.add(hex(s.trace_id));
      c.request = null;
    }
  };
  let peak = 0;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, memoryOf(llm.proc.pid).rss);
    } catch {}
    drain();
  }, 50);
  const acked = new Set();
  let attempts = 0;
  let refused = 0;
  const period = (SENDERS * 1000) / (load * CAPACITY);
  const t0 = Date.now();
  const end = t0 + SECONDS * 1000;
  await Promise.all(Array.from({ length: SENDERS }, async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let next = Date.now() + Math.random() * period;
    await sleep(next - Date.now());
    while (Date.now() < end) {
      const body = Buffer.from(tpl.bytes);
      const id = crypto.randomBytes(16);
      id.copy(body, at);
      attempts++;
      const st = await post(agent, `${llm.httpUrl}/v1/traces`, body);
      if (st === 200) acked.add(id.toString('hex'));
      else refused++;
      next += period;
      const w = next - Date.now();
      if (w > 0) await sleep(w);
      else next = Date.now();
    }
    agent.destroy();
  }));
  const elapsed = (Date.now() - t0) / 1000;
  const dEnd = Date.now() + 120000;
  while (Date.now() < dEnd && ![...acked].every((id) => delivered.has(id))) {
    drain();
    await sleep(100);
  }
  drain();
  clearInterval(timer);
  const hwm = memoryOf(llm.proc.pid).hwm;
  await stopLlmotlp(llm, 30000);
  await sink.stop();
  const lost = [...acked].filter((id) => !delivered.has(id)).length;
  return {
    load, limiter, offered: attempts / elapsed, accepted: acked.size / elapsed, refused: refused / elapsed,
    idleMiB: idle / MIB, peakMiB: Math.max(peak, hwm) / MIB, lost,
  };
}

const rows = [];
for (const l of LOADS) rows.push(await run(l, true));
rows.push(await run(LOADS[LOADS.length - 1], false));
console.log(`\n256 KiB requests, backend ${CAPACITY} req/s (${(CAPACITY * REQ_BYTES / MIB).toFixed(0)} MiB/s), ` +
  `${SECONDS} s per line, sending_queue {sizer: bytes, queue_size: 256 MiB}, limiter limit_mib ${LIMIT_MIB} ` +
  `spike ${LIMIT_MIB / 4} (soft ${LIMIT_MIB * 3 / 4} MiB)\n`);
console.log('| load | memory_limiter | offered req/s | accepted req/s | refused req/s | idle RSS MiB | peak RSS MiB | peak / hard limit | acknowledged lost |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows)
  console.log(`| ${r.load}x | ${r.limiter ? 'on' : 'off'} | ${r.offered.toFixed(0)} | ${r.accepted.toFixed(1)} | ` +
    `${r.refused.toFixed(0)} | ${r.idleMiB.toFixed(1)} | ${r.peakMiB.toFixed(1)} | ${(r.peakMiB / LIMIT_MIB).toFixed(2)} | ${r.lost} |`);
