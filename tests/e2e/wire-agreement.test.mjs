// wire-agreement.test.mjs — what the receiver answers is what every later stage sees.
// The one idea: requests that protobuf decoders disagree on (a 6-byte length prefix, a
// singular message field twice, a oneof with two members, strings that are not UTF-8 or hold
// a NUL) are sent as hand-built bytes over gRPC and OTLP/HTTP to a real llmotlp that exports
// to a raw gRPC backend recording the exact bytes it gets. Each is either refused with the
// protocol's status and never forwarded, or accepted, counted as the decoders count it, and
// forwarded in a form that a strict proto3 decoder takes (valid UTF-8, U+FFFD where bytes
// were bad) — over gRPC and HTTP alike, and the same for the JSON path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import grpc from '@grpc/grpc-js';
import { startLlmotlp, stopLlmotlp } from './lib/llmotlp.mjs';
import { rawClient, rawCall, status } from './lib/rawclient.mjs';
import { exportPath, decodeRequest } from './lib/proto.mjs';
import { postOtlp } from './lib/httpclient.mjs';
import { scrape, sumOf } from './lib/prometheus.mjs';
import { freePort } from './lib/ports.mjs';
import { scaled, sleep } from './lib/util.mjs';

// ---- protobuf bytes by hand ------------------------------------------------------------------
const varint = (v) => {
  const out = [];
  let x = BigInt(v);
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x) b |= 0x80;
    out.push(b);
  } while (x);
  return Buffer.from(out);
};
const key = (num, wt) => varint((num << 3) | wt);
const field = (num, bytes) => Buffer.concat([key(num, 2), varint(bytes.length), bytes]);
const str = (num, s) => field(num, Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8'));
const fixed64 = (num, v) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return Buffer.concat([key(num, 1), b]);
};
const cat = (...parts) => Buffer.concat(parts);

// A span: trace_id, span_id, name, times, then `extra` inside the Span message.
function span(traceId, name, extra = Buffer.alloc(0)) {
  return cat(field(1, traceId), field(2, crypto.randomBytes(8)), str(5, name), fixed64(7, 1000), fixed64(8, 2000), extra);
}
const traces = (...spans) => field(1, field(2, cat(...spans.map((s) => field(2, s)))));
const points = (n) => cat(...Array.from({ length: n }, (_, i) => field(1, cat(fixed64(3, 1000 + i), fixed64(4, 0x3ff0000000000000n)))));
const metrics = (name, body) => field(1, field(2, field(2, cat(str(1, name), body))));

// ---- a raw backend: records the exact bytes of every Export call ---------------------------
async function rawBackend() {
  const calls = [];
  const server = new grpc.Server();
  for (const signal of ['traces', 'metrics', 'logs']) {
    const path = exportPath(signal);
    server.register(path, (call, cb) => {
      calls.push({ signal, bytes: call.request });
      cb(null, Buffer.alloc(0));
    }, (b) => b, (b) => b, 'unary');
  }
  const port = await freePort();
  await new Promise((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  return { calls, endpoint: `127.0.0.1:${port}`, stop: () => new Promise((r) => server.tryShutdown(() => r())) };
}

const REPLACEMENT = Buffer.from([0xef, 0xbf, 0xbd]);

test('wire agreement: refused or accepted as the decoders see it, over gRPC and HTTP', async (t) => {
  const backend = await rawBackend();
  const llm = await startLlmotlp({ exporterEndpoint: backend.endpoint, http: true });
  const client = rawClient(llm.endpoint);
  let ok = false;
  try {
    const withTrace = (buf, traceId) => backend.calls.filter((c) => c.bytes.includes(traceId));
    // Sends bytes over one transport; {code} in gRPC terms (HTTP mapped: 200 OK, 400 INVALID_ARGUMENT).
    const send = async (transport, signal, bytes) => {
      if (transport === 'grpc') return (await rawCall(client, exportPath(signal), bytes)).code;
      const res = await postOtlp(llm.httpUrl, signal, bytes);
      return res.status === 200 ? status.OK : res.status === 400 ? status.INVALID_ARGUMENT : `HTTP ${res.status}`;
    };
    const stillServing = async (transport) => {
      const id = crypto.randomBytes(16);
      assert.equal(await send(transport, 'traces', traces(span(id, 'after'))), status.OK);
      await waitFor(() => withTrace(null, id).length === 1, 'a valid request after a bad one is delivered');
    };
    const waitFor = async (pred, what) => {
      const until = Date.now() + scaled(10000);
      while (!pred()) {
        if (Date.now() > until) assert.fail(`timed out: ${what}`);
        await sleep(50);
      }
    };
    const counter = async (name, match = {}) => sumOf((await scrape(llm.metricsUrl)).samples, name, match);

    for (const transport of ['grpc', 'http']) {
      await t.test(`${transport}: a 6-byte length prefix after a valid request is refused, not forwarded`, async () => {
        const id = crypto.randomBytes(16);
        const bytes = cat(traces(span(id, 'padded')), Buffer.from([0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]));
        assert.equal(await send(transport, 'traces', bytes), status.INVALID_ARGUMENT);
        await sleep(scaled(300));
        assert.equal(withTrace(null, id).length, 0);
        await stillServing(transport);
      });

      await t.test(`${transport}: KeyValue.value twice is refused, not forwarded`, async () => {
        const id = crypto.randomBytes(16);
        const kv = cat(str(1, 'k'), field(2, Buffer.alloc(0)), field(2, Buffer.alloc(0)));
        assert.equal(await send(transport, 'traces', traces(span(id, 'dup', field(9, kv)))), status.INVALID_ARGUMENT);
        await sleep(scaled(300));
        assert.equal(withTrace(null, id).length, 0);
        await stillServing(transport);
      });

      await t.test(`${transport}: a Metric with a gauge then a sum counts and delivers the sum's points`, async () => {
        const name = `oneof-${transport}-${crypto.randomBytes(4).toString('hex')}`;
        const before = await counter('otelcol_receiver_accepted_metric_points', { transport });
        assert.equal(await send(transport, 'metrics', metrics(name, cat(field(5, points(3)), field(7, points(2))))), status.OK);
        await waitFor(() => backend.calls.some((c) => c.signal === 'metrics' && c.bytes.includes(Buffer.from(name))), 'metric delivered');
        const after = await counter('otelcol_receiver_accepted_metric_points', { transport });
        assert.equal(after - before, 2, 'the receiver counts the points that decoders hold');
        const got = backend.calls.find((c) => c.signal === 'metrics' && c.bytes.includes(Buffer.from(name)));
        const m = decodeRequest('metrics', got.bytes).resource_metrics[0].scope_metrics[0].metrics[0];
        assert.equal(m.data, 'sum');
        assert.equal(m.sum.data_points.length, 2);
      });

      await t.test(`${transport}: strings that are not UTF-8 or hold a NUL arrive repaired to U+FFFD`, async () => {
        const id = crypto.randomBytes(16);
        const badName = Buffer.from([0x61, 0xc3, 0x28, 0x62, 0xff, 0x63]); // a, bad pair, b, 0xff, c
        const kv = cat(str(1, Buffer.from('k\0z', 'latin1')), field(2, str(1, Buffer.from([0x76, 0xed, 0xa0, 0x80]))));
        const before = await counter('llmotlp_receiver_repaired_strings', { transport });
        assert.equal(await send(transport, 'traces', traces(span(id, badName, field(9, kv)))), status.OK);
        await waitFor(() => withTrace(null, id).length === 1, 'repaired span delivered');
        const bytes = withTrace(null, id)[0].bytes;
        assert.ok(!bytes.includes(badName), 'the bad bytes are not forwarded');
        assert.ok(bytes.includes(Buffer.concat([Buffer.from('a'), REPLACEMENT, Buffer.from('(b'), REPLACEMENT, Buffer.from('c')])));
        assert.ok(bytes.includes(Buffer.concat([Buffer.from('k'), REPLACEMENT, Buffer.from('z')])));
        assert.ok(bytes.includes(Buffer.concat([Buffer.from('v'), REPLACEMENT, REPLACEMENT, REPLACEMENT])));
        const sp = decodeRequest('traces', bytes).resource_spans[0].scope_spans[0].spans[0];
        assert.equal(sp.name, 'a\uFFFD(b\uFFFDc');
        assert.equal(sp.attributes[0].key, 'k\uFFFDz');
        assert.equal(await counter('llmotlp_receiver_repaired_strings', { transport }) - before, 3);
      });
    }

    await t.test('http/json: the same bad bytes and \\u0000 in JSON strings arrive as the binary path repairs them', async () => {
      const id = crypto.randomBytes(16);
      const json = Buffer.concat([
        Buffer.from(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"${id.toString('hex')}","spanId":"0102030405060708","name":"a`),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('b\\u0000c","attributes":[{"key":"k","value":{"stringValue":"v'),
        Buffer.from([0xff]),
        Buffer.from('"}}]}]}]}]}'),
      ]);
      const res = await postOtlp(llm.httpUrl, 'traces', json, { contentType: 'application/json' });
      assert.equal(res.status, 200);
      await waitFor(() => withTrace(null, id).length === 1, 'JSON span delivered');
      const sp = decodeRequest('traces', withTrace(null, id)[0].bytes).resource_spans[0].scope_spans[0].spans[0];
      assert.equal(sp.name, 'a\uFFFD(b\uFFFDc');
      assert.equal(sp.attributes[0].value.string_value, 'v\uFFFD');
    });
    assert.ok(llm.alive, 'llmotlp is alive');
    ok = true;
  } catch (err) {
    llm.dumpLog('test failed');
    throw err;
  } finally {
    client.close();
    const res = await stopLlmotlp(llm);
    if (ok) assert.deepEqual(res, { code: 0, signal: null });
    await backend.stop();
  }
});
