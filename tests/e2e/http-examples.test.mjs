// http-examples.test.mjs — the OTLP specification's own example payloads, posted with the
// real curl binary the way the spec's README shows, must be understood by llmotlp.
// The one idea: the examples are written by the spec authors, not by us, so they test the
// JSON decoder against the spec rather than against our reading of it; each must be
// answered 200 and arrive downstream (re-encoded as protobuf over gRPC, or as JSON over
// HTTP) meaning exactly what the file says — hex IDs, integer enums, 64-bit strings.
// Variants of one file check the rest of the JSON rules: gzip, snake_case keys, 64-bit
// integers written as numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { withStack } from './lib/stack.mjs';
import { curl } from './lib/httpclient.mjs';
import { HttpSink } from './lib/httpsink.mjs';
import { jsonToDecoded } from './lib/otlpjson.mjs';
import { canonicalItems } from './lib/canonical.mjs';
import { flatten, normalize, attrMap } from './lib/compare.mjs';
import { REPO_ROOT } from './lib/proto.mjs';
import { hex, scaled, sleep } from './lib/util.mjs';

// Byte-identical copies of the spec's examples (shared/otlp-spec/examples), kept in the repo so
// the test runs wherever the repository is cloned.
const EXAMPLES = path.resolve(REPO_ROOT, 'tests', 'unit', 'data', 'json');
const FILES = [
  { file: 'trace.json', signal: 'traces' },
  { file: 'metrics.json', signal: 'metrics' },
  { file: 'logs.json', signal: 'logs' },
  { file: 'events.json', signal: 'logs' },
];

/** Items the downstream received for `signal`, in canonical decoded form. */
function itemsAt(sink, signal) {
  // the HTTP sink records canonical form already; the gRPC sink records the wire form
  return sink.accepted(signal).flatMap((c) => (sink instanceof HttpSink ? flatten(signal, c.request) : canonicalItems(signal, c.request)));
}

const sortedNormal = (items) => items.map((i) => JSON.stringify(normalize(i))).sort();

/** curl POST of a file (or a body written to a temp file) to llmotlp's HTTP receiver. */
async function curlPost(llm, signal, fileOrBody, headers = {}) {
  let file = fileOrBody;
  let tmp;
  if (typeof fileOrBody !== 'string') {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'llmotlp-body-'));
    file = path.join(tmp, 'body');
    fs.writeFileSync(file, fileOrBody);
  }
  const args = ['-X', 'POST', '-H', 'Content-Type: application/json'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  args.push('--data-binary', `@${file}`, `${llm.httpUrl}/v1/${signal}`);
  const res = await curl(args);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  return res;
}

function assertOkJsonResponse(res, what) {
  assert.equal(res.status, 200, `${what}: HTTP ${res.status} ${res.body.toString()} ${res.stderr}`);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/, `${what}: response content type`);
  const body = JSON.parse(res.body.toString() || 'null');
  assert.ok(body && typeof body === 'object', `${what}: the response is an Export*ServiceResponse in JSON`);
  // A full success carries no partial_success, or one that rejected nothing.
  const ps = body.partialSuccess ?? body.partial_success;
  assert.ok(!ps || !Number(ps.rejectedSpans ?? ps.rejectedDataPoints ?? ps.rejectedLogRecords ?? 0), `${what}: ${res.body}`);
}

for (const downstream of ['grpc', 'otlphttp-json']) {
  test(`http examples: the spec's example payloads posted with curl arrive intact (downstream ${downstream})`, async () => {
    const stackOpts =
      downstream === 'grpc' ? { config: { http: true } } : { httpSink: true, config: { http: true, encoding: 'json', compression: 'none' } };
    await withStack(stackOpts, async ({ sink, llm }) => {
      const want = { traces: [], metrics: [], logs: [] };
      for (const { file, signal } of FILES) {
        const full = path.join(EXAMPLES, file);
        const res = await curlPost(llm, signal, full);
        assertOkJsonResponse(res, file);
        want[signal].push(...flatten(signal, jsonToDecoded(signal, fs.readFileSync(full))));
      }
      await sink.waitFor(
        (s) => ['traces', 'metrics', 'logs'].every((sig) => itemsAt(s, sig).length >= want[sig].length),
        scaled(15000),
      );
      await sleep(scaled(300));
      for (const sig of ['traces', 'metrics', 'logs']) {
        assert.deepEqual(sortedNormal(itemsAt(sink, sig)), sortedNormal(want[sig]), `${sig} as the examples say`);
      }

      // By hand, from the files' text: IDs as hex, enums, 64-bit times, typed values.
      const span = itemsAt(sink, 'traces')[0].span;
      assert.equal(span.name, "I'm a server span");
      assert.equal(hex(span.trace_id), '5b8efff798038103d269b633813fc60c');
      assert.equal(hex(span.span_id), 'eee19b7ec3c1b174');
      assert.equal(hex(span.parent_span_id), 'eee19b7ec3c1b173');
      assert.equal(span.kind, 2);
      assert.equal(span.start_time_unix_nano, '1544712660000000000');
      const logs = itemsAt(sink, 'logs').map((l) => l.record);
      const plain = logs.find((r) => r.body?.string_value === 'Example log record');
      assert.ok(plain, 'the logs.json record arrived');
      assert.equal(plain.severity_number, 10);
      assert.equal(hex(plain.trace_id), '5b8efff798038103d269b633813fc60c');
      const la = attrMap(plain.attributes);
      assert.deepEqual(la['int.attribute'], { type: 'int_value', value: '10' });
      assert.deepEqual(la['double.attribute'], { type: 'double_value', value: 637.704 });
      assert.deepEqual(la['boolean.attribute'], { type: 'bool_value', value: true });
      const event = logs.find((r) => r.event_name === 'browser.page_view');
      assert.ok(event, 'the events.json record arrived with its event_name');
      assert.equal(event.body.value, 'kvlist_value');
      const names = itemsAt(sink, 'metrics').map((p) => `${p.metric.name}:${p.type}`);
      for (const n of ['my.counter:sum', 'my.gauge:gauge', 'my.histogram:histogram', 'my.exponential.histogram:exponential_histogram']) {
        assert.ok(names.includes(n), `metric ${n} arrived (got ${names.join(', ')})`);
      }
    });
  });
}

test('http examples: gzip, snake_case keys and 64-bit numbers mean the same as the example', async () => {
  await withStack({ config: { http: true } }, async ({ sink, llm }) => {
    const text = fs.readFileSync(path.join(EXAMPLES, 'trace.json'), 'utf8');
    const want = flatten('traces', jsonToDecoded('traces', text));
    const variants = {
      // Content-Encoding: gzip
      gzip: { body: zlib.gzipSync(text), headers: { 'Content-Encoding': 'gzip' } },
      // the proto field names instead of lowerCamelCase
      snake: {
        body: Buffer.from(
          text.replace(/"([a-z]+(?:[A-Z][a-z]*)+)"\s*:/g, (_m, k) => `"${k.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())}":`),
        ),
      },
      // 64-bit integers as JSON numbers (exactly representable only if parsed as integers)
      numbers: { body: Buffer.from(text.replace(/"(\w+UnixNano)": "(\d+)"/g, '"$1": $2')) },
    };
    assert.match(variants.snake.body.toString(), /"resource_spans"/);
    assert.match(variants.snake.body.toString(), /"start_time_unix_nano"/);
    assert.match(variants.numbers.body.toString(), /"startTimeUnixNano": 1544712660000000000/);
    let delivered = 0;
    for (const [name, v] of Object.entries(variants)) {
      const res = await curlPost(llm, 'traces', v.body, v.headers ?? {});
      assertOkJsonResponse(res, name);
      delivered += 1;
      await sink.waitFor((s) => itemsAt(s, 'traces').length >= delivered, scaled(10000));
      const got = itemsAt(sink, 'traces');
      assert.equal(got.length, delivered, `${name}: one span per post`);
      assert.deepEqual(normalize(got[delivered - 1]), normalize(want[0]), `${name} arrives as the example says`);
    }
  });
});
