// http-mtls.test.mjs — mutual TLS on the OTLP/HTTP receiver (`tls.client_ca_file`), with the
// curl binary as the client.
// The one idea: a CA, a server and a client certificate signed by it, and a rogue self-signed
// client certificate are made by openssl for this test; only a request carrying the CA's client
// certificate is answered 200 and delivered, one without a certificate or with the rogue one is
// refused (401, or the handshake fails) and never reaches the backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { withStack } from './lib/stack.mjs';
import { curl } from './lib/httpclient.mjs';
import { traceRequest } from './lib/requests.mjs';
import { flatten, assertSameItems, spanKey } from './lib/compare.mjs';
import { decodeStatus } from './lib/otlpjson.mjs';
import { scaled, sleep } from './lib/util.mjs';

function makePki(dir) {
  const sh = (script) => execFileSync('bash', ['-c', `set -e; cd ${dir}; ${script}`], { stdio: 'pipe' });
  const key = '-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes';
  sh(`openssl req -x509 ${key} -days 2 -subj /CN=e2e-ca -keyout ca.key -out ca.pem`);
  sh(`openssl req ${key} -subj /CN=localhost -keyout server.key -out server.csr
      printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > server.ext
      openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext -out server.pem`);
  sh(`openssl req ${key} -subj /CN=gateway -keyout client.key -out client.csr
      printf 'extendedKeyUsage=clientAuth\\n' > client.ext
      openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile client.ext -out client.pem`);
  sh(`openssl req -x509 ${key} -days 2 -subj /CN=rogue -keyout rogue.key -out rogue.pem`);
  const f = (n) => path.join(dir, n);
  return { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key'), rogueCert: f('rogue.pem'), rogueKey: f('rogue.key') };
}

test('HTTP mutual TLS: only the CA-signed client certificate is served', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmotlp-mtls-'));
  try {
    const pki = makePki(dir);
    const config = {
      http: true,
      httpYaml: ['tls:', `  cert_file: ${pki.cert}`, `  key_file: ${pki.key}`, `  client_ca_file: ${pki.ca}`],
    };
    await withStack({ config }, async ({ sink, llm }) => {
      const url = `https://127.0.0.1:${llm.httpPort}/v1/traces`;
      const post = async (tag, extra) => {
        const req = traceRequest({ n: 2, tag });
        const file = path.join(dir, `${tag}.bin`);
        fs.writeFileSync(file, req.bytes);
        const res = await curl(['--cacert', pki.ca, ...extra, '-H', 'Content-Type: application/x-protobuf', '--data-binary', `@${file}`, url]);
        return { req, res };
      };
      const delivered = [];
      const good = await post('with-cert', ['--cert', pki.clientCert, '--key', pki.clientKey]);
      assert.equal(good.res.status, 200, `with the client certificate: ${good.res.status} ${good.res.stderr}`);
      delivered.push(...flatten('traces', good.req.decoded));

      const refusedIds = [];
      for (const [what, extra] of [
        ['no client certificate', []],
        ['a rogue client certificate', ['--cert', pki.rogueCert, '--key', pki.rogueKey]],
      ]) {
        const { req, res } = await post(what.replace(/ /g, '-'), extra);
        refusedIds.push(req.traceIdHex);
        t.diagnostic(`${what}: HTTP ${res.status} ${res.stderr.trim()}`);
        if (res.status !== 0) {
          assert.equal(res.status, 401, `${what}: ${res.status}`);
          assert.match(decodeStatus(res.body).message, /client certificate/);
        }
      }
      // still served after the refusals
      const again = await post('with-cert-again', ['--cert', pki.clientCert, '--key', pki.clientKey]);
      assert.equal(again.res.status, 200);
      delivered.push(...flatten('traces', again.req.decoded));
      await sink.waitFor((s) => s.spans().length >= delivered.length, scaled(10000));
      await sleep(scaled(300));
      assertSameItems('span', sink.spans(), delivered, spanKey, (s) => s);
      const leaked = sink.spans().filter((s) => refusedIds.includes(s.span.trace_id.toString('hex')));
      assert.equal(leaked.length, 0, 'a refused request reached the backend');
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
