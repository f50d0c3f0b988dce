// fault-outage.test.mjs — a 20-second backend outage in the middle of steady load.
// The one idea: senders keep sending at a steady rate before, during and after the outage,
// retrying what they are told to retry, as an SDK does; every span of every request answered
// OK must reach the backend exactly once after it returns, and the test reports what the
// senders saw (OK, retryable refusals) so that the promise is measured, not assumed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withStack } from './lib/stack.mjs';
import { rawClient, rawCall, status } from './lib/rawclient.mjs';
import { traceRequest } from './lib/requests.mjs';
import { exportPath } from './lib/proto.mjs';
import { flatten, spanKey } from './lib/compare.mjs';
import { scaled, sleep } from './lib/util.mjs';

const OUTAGE_MS = 20000;
const BEFORE_MS = 3000;
const AFTER_MS = 4000;
const PERIOD_MS = 50; // per sender
const SENDERS = 2;

test('outage: 20 s without a backend under steady load loses and duplicates nothing acknowledged', async (t) => {
  await withStack({ config: { queueSize: 5000, maxElapsedTime: '0s', numConsumers: 4 } }, async ({ sink, llm }) => {
    const seen = { ok: 0, retryable: 0, other: 0, gaveUp: 0 };
    const acked = new Map(); // spanKey -> tag
    let stop = false;

    const sender = async (id) => {
      const client = rawClient(llm.endpoint);
      let n = 0;
      try {
        while (!stop) {
          const req = traceRequest({ n: 5, tag: `outage-${id}-${n++}` });
          let delivered = false;
          for (let attempt = 0; attempt < 20 && !delivered; attempt++) {
            const res = await rawCall(client, exportPath('traces'), req.bytes);
            if (res.code === status.OK) {
              seen.ok++;
              delivered = true;
              for (const s of flatten('traces', req.decoded)) acked.set(spanKey(s), req.decoded);
            } else if (res.code === status.UNAVAILABLE || res.code === status.RESOURCE_EXHAUSTED) {
              seen.retryable++;
              await sleep(200);
            } else {
              seen.other++;
              break;
            }
          }
          if (!delivered) seen.gaveUp++;
          await sleep(PERIOD_MS);
        }
      } finally {
        client.close();
      }
    };

    const senders = Array.from({ length: SENDERS }, (_, i) => sender(i));
    await sleep(BEFORE_MS);
    const before = sink.spans().length;
    await sink.stop();
    const downAt = Date.now();
    await sleep(OUTAGE_MS);
    assert.ok(llm.alive, 'llmotlp still running during the outage');
    const callsWhileDown = sink.calls.length;
    await sink.start(); // same port
    const downMs = Date.now() - downAt;
    await sleep(AFTER_MS);
    stop = true;
    await Promise.all(senders);

    t.diagnostic(`senders saw: ${JSON.stringify(seen)}; backend down ${downMs} ms; ` +
      `${before} spans delivered before it went down; ${acked.size} spans acknowledged in total`);
    assert.ok(downMs >= OUTAGE_MS, 'the outage lasted at least 20 s');
    assert.equal(seen.other, 0, 'no sender was refused with a non-retryable status');
    assert.equal(seen.gaveUp, 0, 'no sender had to give up');
    assert.ok(acked.size > 1000, `steady load: ${acked.size} spans acknowledged`);

    await sink.waitFor((s) => s.spans().length >= acked.size, scaled(60000));
    await sleep(scaled(1000)); // a late duplicate must be seen
    const count = new Map();
    for (const s of sink.spans()) count.set(spanKey(s), (count.get(spanKey(s)) ?? 0) + 1);
    const lost = [...acked.keys()].filter((k) => !count.has(k));
    const dup = [...count.entries()].filter(([, c]) => c > 1);
    const unknown = [...count.keys()].filter((k) => !acked.has(k));
    t.diagnostic(`delivered ${count.size} distinct spans, ${dup.length} duplicated, ${lost.length} lost; ` +
      `${callsWhileDown} calls reached the backend before it went down`);
    assert.equal(lost.length, 0, `acknowledged spans lost: ${lost.slice(0, 5).join(', ')}`);
    assert.equal(dup.length, 0, 'duplicates delivered');
    assert.equal(unknown.length, 0, 'spans delivered that no sender was told were accepted');
  });
});
