// bad-input.test.mjs — what llmotlp answers to malformed, invalid, oversized, empty,
// compressed and misaddressed gRPC calls, sent as raw bytes.
// The one idea: each bad call must get its specific gRPC status, must not reach the
// backend, and must leave llmotlp healthy — proved by a valid request right after it that
// is answered OK and arrives at the sink unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withStack } from './lib/stack.mjs';
import { rawClient, rawCall, status } from './lib/rawclient.mjs';
import { traceRequest } from './lib/requests.mjs';
import { exportPath, encodeRequest } from './lib/proto.mjs';
import { flatten, assertSameItems, spanKey, normalize } from './lib/compare.mjs';
import { scaled, sleep } from './lib/util.mjs';

const GZIP = 2; // grpc-js compression algorithm id

test('bad input: each malformed call gets its status and llmotlp keeps serving', async (t) => {
  await withStack({ config: { maxRecvMsgSizeMib: 1 } }, async ({ sink, llm }) => {
    const client = rawClient(llm.endpoint);
    const gzClient = rawClient(llm.endpoint, { 'grpc.default_compression_algorithm': GZIP });
    const delivered = []; // every span the sink must hold, in decoded form
    const badTraceIds = new Set(); // trace IDs of requests that must never arrive

    // The sink holds every delivered span exactly once; spans of refused requests are
    // checked separately (notForwarded) so that one failure does not cascade.
    const sinkHoldsExactly = async () => {
      await sink.waitFor((s) => s.spans().length >= delivered.length, scaled(10000));
      await sleep(scaled(200));
      const good = sink.spans().filter((s) => !badTraceIds.has(s.span.trace_id.toString('hex')));
      assertSameItems('span', good, delivered, spanKey, (s) => s);
    };
    const notForwarded = async (traceIdHex) => {
      await sleep(scaled(300));
      const leaked = sink.spans().filter((s) => s.span.trace_id.toString('hex') === traceIdHex);
      assert.equal(leaked.length, 0, `spans of a refused request (trace ${traceIdHex}) reached the backend`);
    };
    const validStillWorks = async (tag, c = client) => {
      const req = traceRequest({ n: 3, tag });
      const res = await rawCall(c, exportPath('traces'), req.bytes);
      assert.equal(res.code, status.OK, `valid request after "${tag}": ${res.details}`);
      delivered.push(...flatten('traces', req.decoded));
      await sinkHoldsExactly();
      assert.ok(llm.alive, 'llmotlp is alive');
    };
    const expectCode = async (what, res, code) => {
      assert.equal(res.code, code, `${what}: expected ${code}, got ${res.code} (${res.details})`);
    };

    // Subtests report separately; a failed one is remembered so that the whole test fails
    // (and llmotlp's log is printed) after the rest have run.
    const failed = [];
    const step = (name, fn) =>
      t.test(name, async () => {
        try {
          await fn();
        } catch (err) {
          failed.push(name);
          throw err;
        }
      });

    try {
      await step('a valid request is accepted and delivered unchanged', async () => {
        await validStillWorks('baseline');
        // The delivered copy equals what was sent, field by field.
        const sent = traceRequest({ n: 2, tag: 'fields' });
        assert.equal((await rawCall(client, exportPath('traces'), sent.bytes)).code, status.OK);
        delivered.push(...flatten('traces', sent.decoded));
        await sinkHoldsExactly();
        const got = sink.spans().filter((s) => s.span.trace_id.toString('hex') === sent.traceIdHex);
        assert.deepEqual(normalize(got.map((s) => s.span)), normalize(sent.decoded.resource_spans[0].scope_spans[0].spans));
      });

      await step('garbage bytes -> INVALID_ARGUMENT', async () => {
        // field 1, length-delimited, claims 100 bytes but 2 follow
        await expectCode('truncated', await rawCall(client, exportPath('traces'), Buffer.from([0x0a, 0x64, 0x01, 0x02])), status.INVALID_ARGUMENT);
        await validStillWorks('after-truncated');
        // an 11-byte varint (no protobuf varint is longer than 10)
        await expectCode('bad varint', await rawCall(client, exportPath('traces'), Buffer.from([0x08, ...Array(11).fill(0xff)])), status.INVALID_ARGUMENT);
        // wire type 7 does not exist
        await expectCode('bad wire type', await rawCall(client, exportPath('traces'), Buffer.from([0x0f, 0x01])), status.INVALID_ARGUMENT);
        for (const signal of ['metrics', 'logs']) {
          await expectCode(`${signal} garbage`, await rawCall(client, exportPath(signal), Buffer.from([0x0a, 0x64, 0x01, 0x02])), status.INVALID_ARGUMENT);
        }
        await validStillWorks('after-garbage');
      });

      await step('a span whose trace_id has 15 bytes -> INVALID_ARGUMENT, not forwarded', async () => {
        const bad = traceRequest({ n: 2, tag: 'short-trace-id', traceIdBytes: 15 });
        badTraceIds.add(bad.traceIdHex); // before the call: excluded from the other checks even if it leaks
        await expectCode('15-byte trace_id', await rawCall(client, exportPath('traces'), bad.bytes), status.INVALID_ARGUMENT);
        await notForwarded(bad.traceIdHex);
        await validStillWorks('after-short-trace-id');
      });

      await step('a span whose span_id has 9 bytes -> INVALID_ARGUMENT, not forwarded', async () => {
        const bad = traceRequest({ n: 1, tag: 'long-span-id' });
        bad.obj.resource_spans[0].scope_spans[0].spans[0].span_id = Buffer.alloc(9, 7);
        badTraceIds.add(bad.traceIdHex); // before the call: excluded from the other checks even if it leaks
        await expectCode('9-byte span_id', await rawCall(client, exportPath('traces'), encodeRequest('traces', bad.obj)), status.INVALID_ARGUMENT);
        await notForwarded(bad.traceIdHex);
        await validStillWorks('after-long-span-id');
      });

      await step('a 2 MiB request over max_recv_msg_size_mib: 1 -> RESOURCE_EXHAUSTED', async () => {
        const big = traceRequest({ n: 1, tag: 'big', padBytes: 2 * 1024 * 1024 });
        assert.ok(big.bytes.length > 2 * 1024 * 1024);
        badTraceIds.add(big.traceIdHex); // before the call: excluded from the other checks even if it leaks
        await expectCode('2 MiB', await rawCall(client, exportPath('traces'), big.bytes), status.RESOURCE_EXHAUSTED);
        await notForwarded(big.traceIdHex);
        await validStillWorks('after-big');
      });

      await step('an empty request -> OK', async () => {
        for (const signal of ['traces', 'metrics', 'logs']) {
          await expectCode(`empty ${signal}`, await rawCall(client, exportPath(signal), Buffer.alloc(0)), status.OK);
        }
        await validStillWorks('after-empty');
      });

      await step('an unknown method -> UNIMPLEMENTED before the deadline', async () => {
        const deadlineMs = scaled(5000);
        for (const path of ['/opentelemetry.proto.collector.trace.v1.TraceService/Nope', '/no.such.Service/Export']) {
          await expectCode(path, await rawCall(client, path, traceRequest({ n: 1, tag: 'unknown' }).bytes, { deadlineMs }), status.UNIMPLEMENTED);
        }
        await validStillWorks('after-unimplemented');
      });

      await step('a gzip-compressed valid request -> OK and delivered', async () => {
        const req = traceRequest({ n: 4, tag: 'gzip', padBytes: 64 * 1024 });
        await expectCode('gzip', await rawCall(gzClient, exportPath('traces'), req.bytes), status.OK);
        delivered.push(...flatten('traces', req.decoded));
        await sinkHoldsExactly();
        await validStillWorks('after-gzip', gzClient);
      });

      await step('a gzip request small on the wire but 3 MiB inflated -> RESOURCE_EXHAUSTED', async () => {
        const bomb = traceRequest({ n: 1, tag: 'gzip-bomb', padBytes: 3 * 1024 * 1024 });
        badTraceIds.add(bomb.traceIdHex); // before the call: excluded from the other checks even if it leaks
        await expectCode('inflated 3 MiB', await rawCall(gzClient, exportPath('traces'), bomb.bytes), status.RESOURCE_EXHAUSTED);
        await notForwarded(bomb.traceIdHex);
        await validStillWorks('after-gzip-bomb');
      });

      await step('llmotlp is still alive and nothing refused reached the sink', async () => {
        assert.ok(llm.alive);
        await sinkHoldsExactly();
        const leaked = sink.spans().filter((s) => badTraceIds.has(s.span.trace_id.toString('hex')));
        assert.equal(leaked.length, 0, 'spans of refused requests reached the backend');
      });
      assert.deepEqual(failed, [], 'failed steps');
    } finally {
      client.close();
      gzClient.close();
    }
  });
});
