// http-slow-loris.test.mjs — 1,500 slow connections do not stop the OTLP/HTTP receiver.
// The one idea: each slow client drips its headers a byte a second (so an inactivity limit
// would never trip) from source addresses other than the normal client's; llmotlp must cut
// every one of them at read_header_timeout (a deadline, not an idle limit), refuse at once the
// connections one address opens past max_connections_per_client, and keep answering a normal
// client, who sends a request every 100 ms for the whole attack, promptly and with 200s whose
// spans all arrive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { execSync } from 'node:child_process';
import { withStack } from './lib/stack.mjs';
import { postOtlp } from './lib/httpclient.mjs';
import { traceRequest } from './lib/requests.mjs';
import { flatten, assertSameItems, spanKey } from './lib/compare.mjs';
import { scaled, sleep } from './lib/util.mjs';

const SLOW = 1500;
const HEADER_TIMEOUT_MS = 3000;
const PER_CLIENT = 512; // max_connections_per_client, the default

/**
 * A connection that sends the start of a request and then one more header byte every
 * `dripMs`, never finishing its headers. Resolves {opened, closed, accepted} once the server
 * closes it (closed - opened is how long it was kept).
 */
function slowClient(port, localAddress, dripMs) {
  return new Promise((resolve) => {
    // Taken before connecting: the server cannot start its timer earlier, whereas the 'connect'
    // event may run late on a busy event loop (1,500 sockets opening) and make a connection
    // look cut early.
    const opened = Date.now();
    const s = net.connect({ host: '127.0.0.1', port, localAddress });
    let timer = null;
    let gotData = false;
    s.setNoDelay(true);
    s.on('connect', () => {
      s.write('POST /v1/traces HTTP/1.1\r\nHost: loris\r\nX-Drip: ');
      timer = setInterval(() => s.write('a'), dripMs);
    });
    s.on('data', () => {
      gotData = true;
    });
    s.on('error', () => {});
    s.on('close', () => {
      clearInterval(timer);
      resolve({ opened, closed: Date.now(), gotData, s });
    });
    resolve.socket = s;
  });
}

/** Opens n slow clients, `batch` at a time, spread over the given source addresses. */
async function openSlow(port, n, addresses, dripMs) {
  const done = [];
  for (let i = 0; i < n; i += 100) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 100); j++) batch.push(slowClient(port, addresses[j % addresses.length], dripMs));
    done.push(...batch);
    await sleep(20); // let the batch connect before the next
  }
  return done;
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

test('slow loris: 1,500 dripping connections are cut at read_header_timeout, a normal client is served throughout', async (t) => {
  const limit = Number(execSync('ulimit -n', { shell: '/bin/bash' }).toString().trim());
  assert.ok(Number.isNaN(limit) || limit >= SLOW + 600 + 200, `this test needs ${SLOW + 800} open files (ulimit -n is ${limit}); run.sh raises it`);
  const config = {
    http: true,
    logLevel: 'info',
    httpYaml: [`read_header_timeout: ${HEADER_TIMEOUT_MS}ms`, 'max_connections: 4096'],
  };
  await withStack({ config }, async ({ sink, llm }) => {
    const port = llm.httpPort;
    const delivered = [];
    const latencies = [];
    const failures = [];
    let stop = false;
    // the normal client: a request every 100 ms on a fresh connection from 127.0.0.1
    const normal = (async () => {
      let k = 0;
      while (!stop) {
        const req = traceRequest({ n: 1, tag: `normal-${k++}` });
        const t0 = Date.now();
        const res = await postOtlp(llm.httpUrl, 'traces', req.bytes);
        const ms = Date.now() - t0;
        latencies.push(ms);
        if (res.status === 200) delivered.push(...flatten('traces', req.decoded));
        else failures.push(`${res.status} ${res.error ?? ''} after ${ms} ms`);
        await sleep(100);
      }
    })();

    try {
      // 1) 1,500 slow clients from three addresses (500 each, under the per-client limit)
      const t0 = Date.now();
      const slow = await openSlow(port, SLOW, ['127.0.0.2', '127.0.0.3', '127.0.0.4'], 1000);
      const openedIn = Date.now() - t0;
      const results = await Promise.race([
        Promise.all(slow),
        sleep(scaled(HEADER_TIMEOUT_MS + 15000)).then(() => null),
      ]);
      assert.ok(results, 'every slow connection was closed by llmotlp');
      const kept = results.map((r) => r.closed - r.opened);
      t.diagnostic(
        `${SLOW} slow clients opened in ${openedIn} ms; kept ${Math.min(...kept)}..${Math.max(...kept)} ms ` +
          `(median ${pct(kept, 50)}); read_header_timeout ${HEADER_TIMEOUT_MS} ms`,
      );
      const early = kept.filter((ms) => ms < HEADER_TIMEOUT_MS - 100);
      assert.equal(early.length, 0, `${early.length} slow connections closed before read_header_timeout`);
      assert.ok(Math.max(...kept) < HEADER_TIMEOUT_MS + scaled(2500), `a slow connection was kept ${Math.max(...kept)} ms`);
      assert.ok(results.every((r) => !r.gotData), 'a slow client was answered instead of cut');

      // 2) one address opens 600: 512 are kept until the deadline, the rest closed at once
      const t1 = Date.now();
      const burst = await openSlow(port, PER_CLIENT + 88, ['127.0.0.9'], 1000);
      await sleep(1000);
      const closedEarly = [];
      for (const p of burst) {
        const r = await Promise.race([p, sleep(0).then(() => null)]);
        if (r) closedEarly.push(r);
      }
      t.diagnostic(`one address, ${PER_CLIENT + 88} connections: ${closedEarly.length} closed within 1 s of opening`);
      assert.equal(closedEarly.length, 88, 'connections past max_connections_per_client are closed at once');
      const all = await Promise.all(burst);
      const keptLong = all.filter((r) => r.closed - r.opened >= HEADER_TIMEOUT_MS - 100).length;
      assert.equal(keptLong, PER_CLIENT);
      t.diagnostic(`phase 2 took ${Date.now() - t1} ms`);
    } finally {
      stop = true;
      await normal;
    }

    t.diagnostic(
      `normal client: ${latencies.length} requests, latency p50 ${pct(latencies, 50)} ms, p99 ${pct(latencies, 99)} ms, ` +
        `max ${Math.max(...latencies)} ms; failures ${failures.length}`,
    );
    assert.deepEqual(failures, [], 'the normal client was refused or timed out during the attack');
    assert.ok(latencies.length >= 40, `only ${latencies.length} normal requests ran`);
    assert.ok(pct(latencies, 99) < scaled(1000), `normal client p99 latency ${pct(latencies, 99)} ms`);
    await sink.waitFor((s) => s.spans().length >= delivered.length, scaled(10000));
    assertSameItems('span', sink.spans(), delivered, spanKey, (s) => s);
    assert.match(llm.log(), /slow HTTP clients: connections cut: \d+ past read_header_timeout/);
    assert.match(llm.log(), /HTTP connection\(s\) refused: max_connections or max_connections_per_client reached/);
  });
});
