// memory-limiter.test.mjs — 10x overload with large requests into a slow backend, with
// memory_limiter and a byte-sized sending queue: llmotlp's RSS stays under the configured limit
// plus a stated margin for the whole run, senders get retryable answers (HTTP 503 + Retry-After,
// gRPC UNAVAILABLE), and every request answered OK reaches the backend. One sender in five uses
// OTLP/gRPC, the rest OTLP/HTTP.
// The one idea: the backend's capacity is fixed by the exporter (num_consumers calls in flight,
// each held delayMs by the sink), so "10x" is a request rate the test paces itself; the queue is
// sized far beyond the memory limit (queue_size 256 MiB of bytes), so what holds memory down is
// the admission budget memory_limiter sets, not the queue. Each request is one span with a
// 256 KiB attribute and its own trace ID (patched into one encoded template), so the sink's
// trace IDs are the proof of delivery; the sink drops bodies once their IDs are read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { Sink } from './lib/sink.mjs';
import { startLlmotlp, stopLlmotlp } from './lib/llmotlp.mjs';
import { memoryOf } from './lib/httpclient.mjs';
import { scrape, sumOf } from './lib/prometheus.mjs';
import { traceRequest } from './lib/requests.mjs';
import { rawClient, rawCall, status as grpcStatus } from './lib/rawclient.mjs';
import { exportPath } from './lib/proto.mjs';
import { SLOW, hex, scaled, sleep } from './lib/util.mjs';

const MIB = 1024 * 1024;
const REQ_BYTES = 256 * 1024;
const SINK_DELAY_MS = 100;
const CONSUMERS = 2;
const CAPACITY_RPS = (CONSUMERS * 1000) / SINK_DELAY_MS; // what the backend drains: 20 req/s
const OVERLOAD = 10;
const SENDERS = 20;
const OVERLOAD_MS = SLOW ? 20000 : 30000;
// The release build idles at ~15 MiB RSS; ASan adds shadow memory and a quarantine of freed
// blocks, so its limits are higher (and its quarantine capped below).
const LIMIT_MIB = SLOW ? 192 : 128;
const SPIKE_MIB = SLOW ? 48 : 32;
// What the accounting does not see: gRPC core's and libmicrohttpd's buffers, the exporter's
// serialized copy of each request in flight, allocator slack. Stated, and asserted.
const MARGIN_MIB = SLOW ? 96 : 32;

/** One request with a keep-alive agent; resolves {status, retryAfter} (0 = no answer). */
function post(agent, url, body) {
  return new Promise((resolve) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'Content-Type': 'application/x-protobuf', 'Content-Length': body.length },
        timeout: scaled(20000),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode, retryAfter: res.headers['retry-after'] }));
        res.on('error', () => resolve({ status: res.statusCode, retryAfter: res.headers['retry-after'] }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: 0, error: err.message }));
    req.end(body);
  });
}

test('10x overload with 256 KiB requests: RSS bounded, retryable refusals, nothing acknowledged lost', { timeout: scaled(180000) + 60000 }, async () => {
  const sink = new Sink();
  sink.delayMs = SINK_DELAY_MS;
  await sink.start();
  const llm = await startLlmotlp({
    exporterEndpoint: sink.endpoint,
    http: true,
    numConsumers: CONSUMERS,
    queueSize: 256 * MIB,
    queueSizer: 'bytes',
    maxElapsedTime: '0s', // retry for ever: nothing acknowledged may be given up
    logLevel: 'info',
    processors: ['memory_limiter'],
    processorsYaml: [
      '  memory_limiter:',
      '    check_interval: 100ms',
      `    limit_mib: ${LIMIT_MIB}`,
      `    spike_limit_mib: ${SPIKE_MIB}`,
    ].join('\n'),
    env: SLOW ? { ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ? process.env.ASAN_OPTIONS + ':' : ''}quarantine_size_mb=16` } : undefined,
  });
  const url = `${llm.httpUrl}/v1/traces`;
  // One encoded template; each request gets a fresh trace ID written over the template's.
  const tpl = traceRequest({ n: 1, tag: 'overload', padBytes: REQ_BYTES });
  const at = tpl.bytes.indexOf(Buffer.from(tpl.traceIdHex, 'hex'));
  assert.ok(at > 0);
  const fresh = () => {
    const body = Buffer.from(tpl.bytes);
    const id = crypto.randomBytes(16);
    id.copy(body, at);
    return { body, id: id.toString('hex') };
  };

  // The sink keeps decoded bodies; read their trace IDs and let the bodies go.
  const delivered = new Set();
  let seen = 0;
  const drainSink = () => {
    for (; seen < sink.calls.length; seen++) {
      const c = sink.calls[seen];
      if (c.code === 0 && c.request) {
        for (const rs of c.request.resource_spans ?? [])
          for (const ss of rs.scope_spans ?? []) for (const s of ss.spans ?? []) delivered.add(hex(s.trace_id));
      }
      c.request = null;
    }
  };

  let peakRss = 0;
  let samples = 0;
  const rssTimer = setInterval(() => {
    try {
      peakRss = Math.max(peakRss, memoryOf(llm.proc.pid).rss);
      samples++;
    } catch {
      /* exited */
    }
    drainSink();
  }, 100);

  const acked = new Set();
  const statuses = {};
  const grpcReasons = new Set(); // the details of gRPC refusals: the sender is told why
  let attempts = 0;
  let noRetryAfter = 0;
  const periodMs = (SENDERS * 1000) / (OVERLOAD * CAPACITY_RPS); // 100 ms per sender
  const end = Date.now() + OVERLOAD_MS;
  const t0 = Date.now();
  try {
    await Promise.all(
      Array.from({ length: SENDERS }, async (_, k) => {
        const useGrpc = k % 5 === 0;
        const agent = useGrpc ? null : new http.Agent({ keepAlive: true, maxSockets: 1 });
        const client = useGrpc ? rawClient(llm.endpoint) : null;
        let next = Date.now();
        while (Date.now() < end) {
          const { body, id } = fresh();
          attempts++;
          if (useGrpc) {
            const r = await rawCall(client, exportPath('traces'), body, { deadlineMs: scaled(20000) });
            const key = `grpc ${r.code}`;
            statuses[key] = (statuses[key] ?? 0) + 1;
            if (r.code === grpcStatus.OK) acked.add(id);
            else grpcReasons.add(r.details);
          } else {
            const r = await post(agent, url, body);
            statuses[r.status] = (statuses[r.status] ?? 0) + 1;
            if (r.status === 200) acked.add(id);
            else if ((r.status === 503 || r.status === 429) && !r.retryAfter) noRetryAfter++;
          }
          next += periodMs;
          const wait = next - Date.now();
          if (wait > 0) await sleep(wait);
          else next = Date.now(); // behind: no burst to catch up
        }
        agent?.destroy();
        client?.close();
      }),
    );
    const elapsed = (Date.now() - t0) / 1000;
    const offeredRps = attempts / elapsed;
    // Every acknowledged request arrives. The queue drains at the backend's pace (about 20 s of
    // it is held at the end), slower on a loaded machine: wait until everything acknowledged has
    // arrived, or until the exporter's queue has been empty for longer than the longest retry
    // backoff (30 s: then what is missing is lost, not late), within a bound far beyond the
    // drain time.
    const dEnd = Date.now() + scaled(120000);
    let emptySince = 0;
    while (Date.now() < dEnd) {
      drainSink();
      if ([...acked].every((id) => delivered.has(id))) break;
      const m = await scrape(llm.metricsUrl);
      const queued = sumOf(m.samples, 'otelcol_exporter_queue_size', { exporter: 'otlp' });
      if (queued > 0) emptySince = 0;
      else if (!emptySince) emptySince = Date.now();
      else if (Date.now() - emptySince > 35000) break;
      await sleep(250);
    }
    drainSink();
    clearInterval(rssTimer);
    const hwm = memoryOf(llm.proc.pid).hwm;
    const lost = [...acked].filter((id) => !delivered.has(id));
    const report =
      `offered ${offeredRps.toFixed(0)} req/s (${(offeredRps / CAPACITY_RPS).toFixed(1)}x the backend's ${CAPACITY_RPS} req/s) ` +
      `of ${REQ_BYTES / 1024} KiB for ${elapsed.toFixed(0)} s; statuses ${JSON.stringify(statuses)}; ` +
      `acknowledged ${acked.size}, delivered ${delivered.size}; peak RSS sampled ${(peakRss / MIB).toFixed(1)} MiB ` +
      `(${samples} samples), VmHWM ${(hwm / MIB).toFixed(1)} MiB; limit ${LIMIT_MIB} MiB + margin ${MARGIN_MIB} MiB`;
    process.stderr.write(`memory-limiter: ${report}\n`);

    assert.ok(offeredRps >= 5 * CAPACITY_RPS, `not overloaded: ${report}`);
    for (const s of Object.keys(statuses))
      assert.ok(['200', '503', '429', 'grpc 0', 'grpc 14'].includes(s), `unexpected status ${s}: ${report}`);
    assert.ok((statuses[503] ?? 0) + (statuses[429] ?? 0) > 0, `no retryable refusal over HTTP: ${report}`);
    assert.ok((statuses['grpc 14'] ?? 0) > 0, `no UNAVAILABLE over gRPC: ${report}`);
    assert.ok([...grpcReasons].some((d) => /memory_limiter/.test(d)),
      `no gRPC refusal names memory_limiter: ${JSON.stringify([...grpcReasons])}`);
    assert.ok((statuses['grpc 0'] ?? 0) > 0, `nothing accepted over gRPC: ${report}`);
    assert.equal(noRetryAfter, 0, 'a retryable refusal without Retry-After');
    assert.ok(acked.size > 0, `nothing accepted: ${report}`);
    assert.deepEqual(lost.slice(0, 5), [], `${lost.length} acknowledged requests never arrived: ${report}`);
    assert.ok(hwm < (LIMIT_MIB + MARGIN_MIB) * MIB, `RSS peak over the limit + margin: ${report}`);
    assert.ok(peakRss < (LIMIT_MIB + MARGIN_MIB) * MIB, `RSS over the limit + margin: ${report}`);
    // the limiter's own counters are visible
    const res = await fetch(llm.metricsUrl);
    const text = await res.text();
    assert.match(text, /llmotlp_memory_budget_limit_bytes \d+/);
    assert.match(text, /otelcol_processor_accepted_spans\{processor="memory_limiter"\} \d+/);
    const exit = await stopLlmotlp(llm, scaled(20000));
    assert.deepEqual(exit, { code: 0, signal: null });
  } catch (err) {
    llm.dumpLog('memory-limiter test failed');
    throw err;
  } finally {
    clearInterval(rssTimer);
    await llm.kill();
    await sink.stop();
  }
});
