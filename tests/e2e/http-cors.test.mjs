// http-cors.test.mjs — a browser (the JS SDK in a web page) exporting to llmotlp's
// OTLP/HTTP receiver across origins, as the browser's CORS checks see it.
// The one idea: CORS is enforced by the browser from response headers alone, so the test
// plays the browser: a preflight OPTIONS and then the POST, each judged only by whether
// Access-Control-Allow-Origin names the page's origin — for an allowed origin (exact, or
// by a wildcard pattern) and for one that is not allowed — and the data of the allowed
// POST must arrive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withStack } from './lib/stack.mjs';
import { httpRequest, postOtlp } from './lib/httpclient.mjs';
import { traceRequest } from './lib/requests.mjs';
import { canonicalItems } from './lib/canonical.mjs';
import { assertSameItems, spanKey } from './lib/compare.mjs';
import { scaled } from './lib/util.mjs';

const ALLOWED = 'https://console.gateway.example';
const PATTERN = 'https://*.eu.gateway.example';
const BY_PATTERN = 'https://tenant-7.eu.gateway.example';
const DENIED = 'https://evil.example';

function preflight(llm, origin, requestHeaders = 'content-type') {
  return httpRequest(`${llm.httpUrl}/v1/traces`, {
    method: 'OPTIONS',
    headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': requestHeaders },
  });
}

test('http cors: preflight and POST from allowed origins pass, others get no CORS grant', async () => {
  const config = { http: true, corsAllowedOrigins: [ALLOWED, PATTERN], corsAllowedHeaders: ['x-tenant-id'] };
  await withStack({ config }, async ({ sink, llm }) => {
    for (const origin of [ALLOWED, BY_PATTERN]) {
      const pf = await preflight(llm, origin, 'content-type, x-tenant-id');
      assert.ok(pf.status >= 200 && pf.status < 300, `preflight from ${origin}: ${pf.status} ${pf.body}`);
      assert.equal(pf.headers['access-control-allow-origin'], origin);
      assert.match(pf.headers['access-control-allow-methods'] ?? '', /\bPOST\b/);
      assert.match((pf.headers['access-control-allow-headers'] ?? '').toLowerCase(), /x-tenant-id/);
    }
    // A header that was not configured is not granted.
    const badHeader = await preflight(llm, ALLOWED, 'x-secret');
    assert.ok(
      badHeader.status >= 400 || !(badHeader.headers['access-control-allow-headers'] ?? '').toLowerCase().includes('x-secret'),
      `x-secret was granted: ${JSON.stringify(badHeader.headers)}`,
    );
    // An origin that is not allowed gets no grant (the browser then blocks the POST).
    const denied = await preflight(llm, DENIED);
    assert.equal(denied.headers['access-control-allow-origin'], undefined, `grant to ${DENIED}`);

    // The actual POST from an allowed origin: 200, the grant, and the data arrives.
    const want = [];
    for (const origin of [ALLOWED, BY_PATTERN]) {
      const req = traceRequest({ n: 2, tag: `cors-${origin}` });
      const res = await postOtlp(llm.httpUrl, 'traces', req.bytes, { headers: { Origin: origin, 'X-Tenant-Id': 't7' } });
      assert.equal(res.status, 200, res.body.toString());
      assert.equal(res.headers['access-control-allow-origin'], origin);
      want.push(...canonicalItems('traces', req.decoded));
    }
    const other = await postOtlp(llm.httpUrl, 'traces', traceRequest({ n: 1, tag: 'cors-denied' }).bytes, { headers: { Origin: DENIED } });
    assert.equal(other.headers['access-control-allow-origin'], undefined, `POST from ${DENIED} was granted`);
    await sink.waitFor((s) => s.spans().length >= want.length, scaled(10000));
    const got = sink.accepted('traces').flatMap((c) => canonicalItems('traces', c.request)).filter((s) => !JSON.stringify(s.span.attributes).includes('cors-denied'));
    assertSameItems('span', got, want, spanKey, (s) => s);
  });
});
