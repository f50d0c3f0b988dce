// health.test.mjs — the health_check extension as a load balancer sees it.
// The one idea: health is observed from outside across the whole life of the process: 200
// with the Collector's JSON once the pipelines run, and 503 while it shuts down — made
// observable by stopping it while the backend is down, so the exporter is still draining
// (retrying) for a while after SIGTERM and the endpoint must say "not available" meanwhile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withStack } from './lib/stack.mjs';
import { stopLlmotlp } from './lib/llmotlp.mjs';
import { httpRequest } from './lib/httpclient.mjs';
import { rawClient, rawCall, status } from './lib/rawclient.mjs';
import { traceRequest } from './lib/requests.mjs';
import { exportPath } from './lib/proto.mjs';
import { scaled, sleep } from './lib/util.mjs';

// A bounded drain: with the backend down, the exporter gives up at this deadline.
const SHUTDOWN_TIMEOUT_S = 3;
process.env.LLMOTLP_SHUTDOWN_TIMEOUT = `${SHUTDOWN_TIMEOUT_S}s`;

test('health: 200 while running, 503 during a shutdown that drains to a dead backend', async (t) => {
  await withStack({ config: { health: true }, selfStop: true }, async ({ sink, llm }) => {
    // Running: 200 with the Collector's body.
    let res;
    const end = Date.now() + scaled(10000);
    do {
      res = await httpRequest(llm.healthUrl + '/', { method: 'GET' });
      if (res.status !== 200) await sleep(50);
    } while (res.status !== 200 && Date.now() < end);
    assert.equal(res.status, 200, `health while running: ${res.status} ${res.body}`);
    const body = JSON.parse(res.body.toString());
    assert.equal(body.status, 'Server available');
    assert.ok(body.upSince && !Number.isNaN(Date.parse(body.upSince)), `upSince: ${body.upSince}`);

    // Traffic flows while healthy.
    const client = rawClient(llm.endpoint);
    const r = traceRequest({ n: 3, tag: 'healthy' });
    assert.equal((await rawCall(client, exportPath('traces'), r.bytes)).code, status.OK);
    await sink.waitFor((s) => s.spans().length >= 3, scaled(10000));
    assert.equal(sink.spans().length, 3);

    // Backend down, data accepted: the exporter now has something to retry.
    await sink.stop();
    for (let i = 0; i < 3; i++) {
      const q = traceRequest({ n: 2, tag: `stuck-${i}` });
      assert.equal((await rawCall(client, exportPath('traces'), q.bytes)).code, status.OK);
    }
    client.close();
    res = await httpRequest(llm.healthUrl + '/', { method: 'GET' });
    assert.equal(res.status, 200, 'still healthy while only the backend is down');

    // SIGTERM, and watch the health endpoint until the process is gone.
    const seen = [];
    const exitPromise = stopLlmotlp(llm, scaled(SHUTDOWN_TIMEOUT_S * 1000 + 15000));
    while (llm.alive) {
      const h = await httpRequest(llm.healthUrl + '/', { method: 'GET', timeoutMs: 1000 });
      seen.push(h.status);
      if (h.status === 503) {
        const b = JSON.parse(h.body.toString());
        assert.equal(b.status, 'Server not available');
      }
      await sleep(20);
    }
    const exit = await exitPromise;
    const statuses = [...new Set(seen)];
    t.diagnostic(`health during shutdown: ${seen.filter((x) => x === 503).length} x 503 of ${seen.length} polls`);
    assert.ok(seen.includes(503), `expected a 503 while shutting down; saw ${JSON.stringify(statuses)}`);
    // After 503 it never becomes healthy again.
    const first503 = seen.indexOf(503);
    assert.ok(!seen.slice(first503).includes(200), `200 after 503 during shutdown: ${JSON.stringify(seen)}`);
    assert.deepEqual(exit, { code: 0, signal: null }, 'exit after a bounded drain');
    // And nothing answers any more.
    assert.equal((await httpRequest(llm.healthUrl + '/', { method: 'GET', timeoutMs: 1000 })).status, 0);
  });
});
