// http-bad-input.test.mjs — what llmotlp's OTLP/HTTP receiver answers to malformed,
// mistyped, oversized, compressed-bomb and misaddressed requests, and to a backend that
// cannot keep up.
// The one idea: each bad request must get the status the OTLP/HTTP spec gives it (with a
// google.rpc.Status body where the spec asks for one), must not reach the backend, and must
// leave llmotlp serving — proved by a valid request right after it that is answered 200 and
// arrives unchanged. Under backpressure, a refusal is a 429/503 with Retry-After, and an
// answer of 200 is a promise: every such request arrives once the backend recovers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withStack } from './lib/stack.mjs';
import { httpRequest, postOtlp, curl, memoryOf } from './lib/httpclient.mjs';
import { traceRequest } from './lib/requests.mjs';
import { toOtlpJson, decodeStatus, decodeResponse } from './lib/otlpjson.mjs';
import { canonicalItems } from './lib/canonical.mjs';
import { assertSameItems, spanKey } from './lib/compare.mjs';
import { HttpSink } from './lib/httpsink.mjs';
import { hex, scaled, sleep } from './lib/util.mjs';

const MIB = 1024 * 1024;

/** The spans a sink holds, canonical, whichever kind of sink it is. */
function spansAt(sink) {
  return sink instanceof HttpSink ? sink.spans() : sink.accepted('traces').flatMap((c) => canonicalItems('traces', c.request));
}

/** A 4xx/5xx body must be a google.rpc.Status with a message, in the request's encoding. */
function assertStatusBody(res, what, { json = false } = {}) {
  assert.ok(res.body.length > 0, `${what}: empty body, expected a google.rpc.Status`);
  let message;
  if (json) {
    assert.match(res.headers['content-type'] ?? '', /^application\/json/, `${what}: content type of the Status`);
    message = JSON.parse(res.body.toString()).message;
  } else {
    assert.match(res.headers['content-type'] ?? '', /^application\/x-protobuf/, `${what}: content type of the Status`);
    message = decodeStatus(res.body).message;
  }
  assert.ok(typeof message === 'string' && message.length > 0, `${what}: the Status has no message (${res.body.toString()})`);
  return message;
}

test('http bad input: each bad request gets its status and llmotlp keeps serving', async (t) => {
  await withStack({ config: { http: true, maxRequestBodySize: MIB } }, async ({ sink, llm }) => {
    const delivered = []; // canonical spans the sink must hold, exactly once each
    const refusedTraceIds = new Set();

    const sinkHoldsExactly = async () => {
      await sink.waitFor(() => spansAt(sink).length >= delivered.length, scaled(10000));
      await sleep(scaled(200));
      const got = spansAt(sink);
      const leaked = got.filter((s) => refusedTraceIds.has(hex(s.span.trace_id)));
      assert.deepEqual(leaked.map(spanKey), [], 'spans of refused requests reached the backend');
      assertSameItems('span', got, delivered, spanKey, (s) => s);
    };
    const validStillWorks = async (tag, json = false) => {
      const req = traceRequest({ n: 3, tag });
      const res = json
        ? await postOtlp(llm.httpUrl, 'traces', Buffer.from(JSON.stringify(toOtlpJson('traces', req.obj))), { contentType: 'application/json' })
        : await postOtlp(llm.httpUrl, 'traces', req.bytes);
      assert.equal(res.status, 200, `valid request after "${tag}": ${res.status} ${res.body.toString()}`);
      delivered.push(...canonicalItems('traces', req.decoded));
      await sinkHoldsExactly();
      assert.ok(llm.alive, 'llmotlp is alive');
    };
    const refused = (req) => refusedTraceIds.add(req.traceIdHex);

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
      await step('valid protobuf and JSON -> 200 with an Export response, delivered unchanged', async () => {
        const req = traceRequest({ n: 2, tag: 'baseline' });
        const res = await postOtlp(llm.httpUrl, 'traces', req.bytes);
        assert.equal(res.status, 200, res.body.toString());
        assert.match(res.headers['content-type'] ?? '', /^application\/x-protobuf/);
        // an ExportTraceServiceResponse: empty, or a partial_success that rejected nothing
        const answer = decodeResponse('traces', res.body);
        assert.ok(!Number(answer.partialSuccess?.rejectedSpans ?? 0), JSON.stringify(answer));
        delivered.push(...canonicalItems('traces', req.decoded));
        await sinkHoldsExactly();
        await validStillWorks('baseline-json', true);
        // gzip-compressed protobuf is accepted too
        const gz = traceRequest({ n: 2, tag: 'baseline-gzip' });
        assert.equal((await postOtlp(llm.httpUrl, 'traces', zlib.gzipSync(gz.bytes), { gzip: true })).status, 200);
        delivered.push(...canonicalItems('traces', gz.decoded));
        await sinkHoldsExactly();
      });

      await step('malformed JSON -> 400 with a Status', async () => {
        const res = await postOtlp(llm.httpUrl, 'traces', Buffer.from('{"resourceSpans": [{"scopeSpans": [ {'), {
          contentType: 'application/json',
        });
        assert.equal(res.status, 400, res.body.toString());
        assertStatusBody(res, 'malformed JSON', { json: true });
        await validStillWorks('after-malformed-json');
      });

      await step('bad hex trace IDs in JSON -> 400, nothing forwarded', async () => {
        for (const [what, badId] of [
          ['not hex', 'zz' + '0'.repeat(30)],
          ['15 bytes', 'ab'.repeat(15)],
          ['base64 instead of hex', Buffer.alloc(16, 7).toString('base64')],
        ]) {
          const req = traceRequest({ n: 2, tag: `badhex-${what}` });
          refused(req);
          const json = toOtlpJson('traces', req.obj);
          json.resourceSpans[0].scopeSpans[0].spans[1].traceId = badId;
          const res = await postOtlp(llm.httpUrl, 'traces', Buffer.from(JSON.stringify(json)), { contentType: 'application/json' });
          assert.equal(res.status, 400, `${what}: ${res.status} ${res.body.toString()}`);
          assertStatusBody(res, what, { json: true });
        }
        await validStillWorks('after-bad-hex', true);
      });

      await step('truncated protobuf -> 400 with a google.rpc.Status body', async () => {
        const req = traceRequest({ n: 3, tag: 'truncated' });
        refused(req);
        const res = await postOtlp(llm.httpUrl, 'traces', req.bytes.subarray(0, req.bytes.length - 7));
        assert.equal(res.status, 400, res.body.toString());
        const msg = assertStatusBody(res, 'truncated protobuf');
        assert.ok(msg.length > 3, msg);
        await validStillWorks('after-truncated');
      });

      await step('gzip bomb (100 MiB of zeros, limit 1 MiB) -> 413 without inflating it', async () => {
        const bomb = zlib.gzipSync(Buffer.alloc(100 * MIB), { level: 9 });
        assert.ok(bomb.length < MIB / 4, `the bomb is small on the wire (${bomb.length} bytes)`);
        const before = memoryOf(llm.proc.pid);
        const res = await postOtlp(llm.httpUrl, 'traces', bomb, { gzip: true });
        const after = memoryOf(llm.proc.pid);
        assert.equal(res.status, 413, `gzip bomb: ${res.status} ${res.body.toString()}`);
        // VmHWM is the peak RSS: had the body been inflated, it would have grown by ~100 MiB.
        const grew = after.hwm - before.hwm;
        t.diagnostic(`gzip bomb: peak RSS ${(before.hwm / MIB).toFixed(1)} -> ${(after.hwm / MIB).toFixed(1)} MiB`);
        assert.ok(grew < 40 * MIB, `peak RSS grew by ${(grew / MIB).toFixed(1)} MiB while refusing the bomb`);
        assert.ok(after.rss < before.rss + 40 * MIB, `RSS ${(after.rss / MIB).toFixed(1)} MiB after the bomb`);
        await validStillWorks('after-gzip-bomb');
      });

      await step('Content-Type text/plain -> 415', async () => {
        const req = traceRequest({ n: 1, tag: 'text-plain' });
        refused(req);
        const res = await postOtlp(llm.httpUrl, 'traces', req.bytes, { contentType: 'text/plain' });
        assert.equal(res.status, 415, res.body.toString());
        await validStillWorks('after-415');
      });

      await step('oversized body (2 MiB, limit 1 MiB) -> 413', async () => {
        const req = traceRequest({ n: 2, tag: 'oversized', padBytes: 2 * MIB });
        refused(req);
        const res = await postOtlp(llm.httpUrl, 'traces', req.bytes);
        assert.equal(res.status, 413, `${res.status} ${res.error ?? ''} ${res.body.toString()}`);
        // and the same with curl (which sends Expect: 100-continue for a body this big)
        const file = writeTemp(req.bytes);
        const c = await curl(['-X', 'POST', '-H', 'Content-Type: application/x-protobuf', '--data-binary', `@${file}`, `${llm.httpUrl}/v1/traces`]);
        fs.rmSync(path.dirname(file), { recursive: true, force: true });
        assert.equal(c.status, 413, `curl: ${c.status} ${c.stderr}`);
        await validStillWorks('after-413');
      });

      await step('GET -> 405, unknown path -> 404, gzip header on a plain body -> 400', async () => {
        const get = await httpRequest(`${llm.httpUrl}/v1/traces`, { method: 'GET' });
        assert.equal(get.status, 405);
        const viaCurl = await curl(['-X', 'GET', `${llm.httpUrl}/v1/logs`]);
        assert.equal(viaCurl.status, 405);
        const req = traceRequest({ n: 1, tag: 'misaddressed' });
        refused(req);
        const nf = await postOtlp(llm.httpUrl, 'nothing-here', req.bytes);
        assert.equal(nf.status, 404);
        const notGzip = traceRequest({ n: 1, tag: 'not-gzip' });
        refused(notGzip);
        const ng = await postOtlp(llm.httpUrl, 'traces', notGzip.bytes, { gzip: true });
        assert.equal(ng.status, 400, ng.body.toString());
        await validStillWorks('after-405-404');
      });

      await step('an empty protobuf request is a valid, empty export -> 200', async () => {
        const res = await postOtlp(llm.httpUrl, 'traces', Buffer.alloc(0));
        assert.equal(res.status, 200, res.body.toString());
        await validStillWorks('after-empty');
      });
    } finally {
      if (failed.length) throw new Error(`failed steps: ${failed.join('; ')}`);
    }
    assert.ok(llm.alive, 'llmotlp survived every bad request');
  });
});

function writeTemp(buf) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmotlp-body-'));
  const f = path.join(dir, 'body');
  fs.writeFileSync(f, buf);
  return f;
}

test('http backpressure: a full queue answers 429/503 with Retry-After, and no 200 is lost', async (t) => {
  await withStack(
    {
      httpSink: true,
      config: { http: true, encoding: 'proto', compression: 'none', queueSize: 1, numConsumers: 1, overflowWait: '100ms', exporterTimeout: '30s' },
    },
    async ({ sink, llm }) => {
      sink.hold(); // the backend takes requests but answers none: the one sender is stuck
      const reqs = Array.from({ length: 12 }, (_, i) => traceRequest({ n: 3, tag: `bp-${i}` }));
      // A few at a time so they overlap in the receiver.
      const results = [];
      for (let i = 0; i < reqs.length; i += 4) {
        results.push(...(await Promise.all(reqs.slice(i, i + 4).map((r) => postOtlp(llm.httpUrl, 'traces', r.bytes)))));
      }
      const ok = [];
      const refusedReqs = [];
      results.forEach((res, i) => {
        if (res.status === 200) ok.push(reqs[i]);
        else {
          assert.ok([429, 503].includes(res.status), `request ${i}: ${res.status} ${res.body.toString()}`);
          const ra = res.headers['retry-after'];
          assert.ok(ra !== undefined, `request ${i}: ${res.status} without Retry-After`);
          assert.ok(/^\d+$/.test(ra) || !Number.isNaN(Date.parse(ra)), `Retry-After "${ra}" is delta-seconds or an HTTP date`);
          assertStatusBody(res, `backpressure ${res.status}`);
          refusedReqs.push(reqs[i]);
        }
      });
      t.diagnostic(`backpressure: statuses ${results.map((r) => r.status).join(' ')}; Retry-After ${results.find((r) => r.status !== 200)?.headers['retry-after']}`);
      assert.ok(refusedReqs.length > 0, `a queue of 1 with a stuck backend refused nothing (${results.map((r) => r.status)})`);
      assert.ok(ok.length >= 1, 'the first request was accepted');

      // The backend recovers: every request answered 200 arrives, once; refused ones never.
      sink.release();
      const want = ok.flatMap((r) => canonicalItems('traces', r.decoded));
      await sink.waitFor((s) => s.spans().length >= want.length, scaled(15000));
      await sleep(scaled(500));
      const refusedIds = new Set(refusedReqs.map((r) => r.traceIdHex));
      const got = sink.spans();
      assert.deepEqual(got.filter((s) => refusedIds.has(hex(s.span.trace_id))).map(spanKey), [], 'refused spans were forwarded');
      assertSameItems('span', got, want, spanKey, (s) => s);

      // Once it drains, it accepts again.
      const after = traceRequest({ n: 2, tag: 'bp-after' });
      assert.equal((await postOtlp(llm.httpUrl, 'traces', after.bytes)).status, 200);
      want.push(...canonicalItems('traces', after.decoded));
      await sink.waitFor((s) => s.spans().length >= want.length, scaled(10000));
      assertSameItems('span', sink.spans(), want, spanKey, (s) => s);
    },
  );
});
