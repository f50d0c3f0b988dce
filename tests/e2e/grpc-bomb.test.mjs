// grpc-bomb.test.mjs — a decompression bomb over OTLP/gRPC is refused at the size limit,
// quickly and without the memory it would take to inflate it.
// The one idea: the bomb (1 GiB of zeros, ~1 MB gzip) is written as a raw gRPC frame over
// node:http2 (compressed flag set, grpc-encoding: gzip), so no client library re-compresses
// it; llmotlp must answer RESOURCE_EXHAUSTED within a second while its peak RSS (VmHWM)
// grows by about the limit, not by the GiB, and must keep serving gzip and deflate requests
// of honest clients, which arrive unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import zlib from 'node:zlib';
import { withStack } from './lib/stack.mjs';
import { memoryOf } from './lib/httpclient.mjs';
import { traceRequest } from './lib/requests.mjs';
import { exportPath } from './lib/proto.mjs';
import { flatten, assertSameItems, spanKey } from './lib/compare.mjs';
import { scaled, SLOW } from './lib/util.mjs';
import { scrape, sumOf } from './lib/prometheus.mjs';

const MIB = 1024 * 1024;
const LIMIT_MIB = 4; // max_recv_msg_size_mib, the default

/** gzip of `total` zero bytes, streamed so the test never holds the inflated GiB itself. */
async function zeroBomb(total, format = 'gzip') {
  const z = format === 'gzip' ? zlib.createGzip({ level: 9 }) : zlib.createDeflate({ level: 9 });
  const out = [];
  z.on('data', (c) => out.push(c));
  const done = new Promise((resolve, reject) => {
    z.on('end', resolve);
    z.on('error', reject);
  });
  const chunk = Buffer.alloc(8 * MIB);
  for (let sent = 0; sent < total; sent += chunk.length) {
    if (!z.write(chunk)) await new Promise((resolve) => z.once('drain', resolve));
  }
  z.end();
  await done;
  return Buffer.concat(out);
}

/**
 * One unary gRPC call over node:http2 with a message already in its wire form: `payload` is
 * sent as is, with the compressed flag set when `encoding` is given. Resolves with
 * {code, details, ms} from the trailers (or the headers of a trailers-only answer).
 */
function rawGrpc(endpoint, path, payload, { encoding, deadlineMs = scaled(10000) } = {}) {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const session = http2.connect(`http://${endpoint}`);
    let settled = false;
    const finish = (r) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.close();
      resolve({ ...r, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => finish({ code: -1, details: 'test deadline' }), deadlineMs);
    session.on('error', (err) => finish({ code: -2, details: String(err) }));
    const headers = {
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
    };
    if (encoding) headers['grpc-encoding'] = encoding;
    const req = session.request(headers);
    let status = null;
    const take = (h) => {
      if (h['grpc-status'] !== undefined && status === null) {
        status = { code: Number(h['grpc-status']), details: decodeURIComponent(h['grpc-message'] ?? '') };
      }
    };
    req.on('response', take);
    req.on('trailers', take);
    req.on('data', () => {});
    req.on('end', () => finish(status ?? { code: -3, details: 'no grpc-status' }));
    req.on('error', (err) => finish(status ?? { code: -2, details: String(err) }));
    const prefix = Buffer.alloc(5);
    prefix[0] = encoding ? 1 : 0;
    prefix.writeUInt32BE(payload.length, 1);
    req.end(Buffer.concat([prefix, payload]));
  });
}

test('gRPC decompression bomb: RESOURCE_EXHAUSTED within 1 s, RSS grows by about the limit', async (t) => {
  const bomb = await zeroBomb(1024 * MIB);
  t.diagnostic(`bomb: ${(bomb.length / 1e6).toFixed(2)} MB gzip of 1 GiB of zeros`);
  assert.ok(bomb.length < LIMIT_MIB * MIB, 'the bomb fits the limit on the wire');
  await withStack({ config: { maxRecvMsgSizeMib: LIMIT_MIB } }, async ({ sink, llm }) => {
    const delivered = [];
    const honest = async (tag, encoding) => {
      const req = traceRequest({ n: 3, tag, padBytes: 32 * 1024 });
      const body = encoding === 'gzip' ? zlib.gzipSync(req.bytes) : encoding === 'deflate' ? zlib.deflateSync(req.bytes) : req.bytes;
      const res = await rawGrpc(llm.endpoint, exportPath('traces'), body, { encoding });
      assert.equal(res.code, 0, `${tag} (${encoding ?? 'identity'}): ${res.code} ${res.details}`);
      delivered.push(...flatten('traces', req.decoded));
    };
    // warm up: the first calls grow gRPC's own pools, which is not the bomb's doing
    await honest('warm-up', 'gzip');
    await honest('warm-up-2', undefined);

    for (let round = 0; round < 3; round++) {
      const before = memoryOf(llm.proc.pid);
      const res = await rawGrpc(llm.endpoint, exportPath('traces'), bomb, { encoding: 'gzip' });
      const after = memoryOf(llm.proc.pid);
      const grew = after.hwm - before.hwm;
      t.diagnostic(
        `bomb ${round}: status ${res.code} in ${res.ms} ms; peak RSS ${(before.hwm / MIB).toFixed(1)} -> ` +
          `${(after.hwm / MIB).toFixed(1)} MiB (+${(grew / MIB).toFixed(1)}), RSS now ${(after.rss / MIB).toFixed(1)} MiB`,
      );
      assert.equal(res.code, 8, `bomb: expected RESOURCE_EXHAUSTED (8), got ${res.code} ${res.details}`);
      assert.match(res.details, /max_recv_msg_size_mib/);
      assert.ok(res.ms < scaled(1000), `bomb answered in ${res.ms} ms`);
      // At most the limit inflated, plus the bomb's own bytes held by gRPC while it is read.
      // Under ASan freed buffers sit in its quarantine (and have shadow memory): a looser bound,
      // still a hundredth of the GiB.
      // Plus 2 MiB of slack: gRPC's own read buffers and the allocator's rounding of a buffer
      // that grows to the limit (seen at +5.0 MiB against a 5.0 MiB bound on a loaded machine).
      const bound = SLOW ? 4 * LIMIT_MIB * MIB : LIMIT_MIB * MIB + bomb.length + 2 * MIB;
      assert.ok(grew < bound, `peak RSS grew by ${(grew / MIB).toFixed(1)} MiB`);
      assert.ok(llm.alive, 'llmotlp is alive');
    }

    // deflate bomb and a corrupt stream
    const dbomb = await zeroBomb(256 * MIB, 'deflate');
    const dres = await rawGrpc(llm.endpoint, exportPath('logs'), dbomb, { encoding: 'deflate' });
    assert.equal(dres.code, 8, `deflate bomb: ${dres.code} ${dres.details}`);
    const corrupt = Buffer.from(zlib.gzipSync(traceRequest({ n: 1, tag: 'corrupt' }).bytes));
    corrupt.fill(0x55, 12, 30);
    const cres = await rawGrpc(llm.endpoint, exportPath('traces'), corrupt, { encoding: 'gzip' });
    assert.equal(cres.code, 3, `corrupt gzip: expected INVALID_ARGUMENT (3), got ${cres.code} ${cres.details}`);
    const truncated = zlib.gzipSync(traceRequest({ n: 1, tag: 'truncated' }).bytes).subarray(0, 40);
    const tres = await rawGrpc(llm.endpoint, exportPath('traces'), truncated, { encoding: 'gzip' });
    assert.equal(tres.code, 3, `truncated gzip: expected INVALID_ARGUMENT (3), got ${tres.code} ${tres.details}`);

    // honest clients are still served, in every encoding, and their spans arrive unchanged
    await honest('after-bomb-gzip', 'gzip');
    await honest('after-bomb-deflate', 'deflate');
    await honest('after-bomb-plain', undefined);
    // a request whose inflated size is exactly at the limit is still accepted
    let pad = LIMIT_MIB * MIB - 1024;
    let atLimit = traceRequest({ n: 1, tag: 'edge', padBytes: pad });
    for (let i = 0; i < 3 && atLimit.bytes.length !== LIMIT_MIB * MIB; i++) {
      pad -= atLimit.bytes.length - LIMIT_MIB * MIB;
      atLimit = traceRequest({ n: 1, tag: 'edge', padBytes: pad });
    }
    assert.equal(atLimit.bytes.length, LIMIT_MIB * MIB);
    const eres = await rawGrpc(llm.endpoint, exportPath('traces'), zlib.gzipSync(atLimit.bytes), { encoding: 'gzip' });
    assert.equal(eres.code, 0, `at the limit: ${eres.code} ${eres.details}`);
    delivered.push(...flatten('traces', atLimit.decoded));
    const over = traceRequest({ n: 1, tag: 'edge-over', padBytes: pad + 1 });
    const ores = await rawGrpc(llm.endpoint, exportPath('traces'), zlib.gzipSync(over.bytes), { encoding: 'gzip' });
    assert.equal(ores.code, 8, `just over the limit: ${ores.code} ${ores.details}`);
    // every refusal above is counted, as HTTP's are: 3 gzip bombs, the deflate bomb, the
    // corrupt and the truncated stream, the request just over the limit
    const { samples } = await scrape(llm.metricsUrl);
    assert.equal(sumOf(samples, 'llmotlp_receiver_malformed_requests', { transport: 'grpc' }), 7);

    await sink.waitFor((s) => s.spans().length >= delivered.length, scaled(10000));
    assertSameItems('span', sink.spans(), delivered, spanKey, (s) => s);
  });
});
