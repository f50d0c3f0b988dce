// tls-reload.test.mjs — `tls.reload_interval` and `tls.client_ca_file_reload` on both receiver
// protocols, with openssl-made certificates, openssl s_client, curl and a grpc-js client.
// The one idea: the files are replaced under a running llmotlp and only new connections are
// looked at: the served certificate's subject (read by openssl s_client, gRPC being TLS too) is
// a.test before, b.test once reload_interval has passed, and stays b.test when the files are
// then broken (garbage, a key that does not match); a client CA swapped on disk lets the new
// CA's clients in and keeps the old CA's out. Each test is bounded well under 30 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import grpc from '@grpc/grpc-js';
import { withStack } from './lib/stack.mjs';
import { curl } from './lib/httpclient.mjs';
import { traceRequest } from './lib/requests.mjs';
import { scaled, sleep } from './lib/util.mjs';

const TRACES = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

function makePki(dir) {
  const sh = (script) => execFileSync('bash', ['-c', `set -e; cd ${dir}; ${script}`], { stdio: 'pipe' });
  const key = '-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes';
  sh(`printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > server.ext
      printf 'extendedKeyUsage=clientAuth\\n' > client.ext`);
  for (const ca of ['ca1', 'ca2']) sh(`openssl req -x509 ${key} -days 2 -subj /CN=${ca} -keyout ${ca}.key -out ${ca}.pem`);
  // server certificates a.test and b.test from ca1; a client certificate from each CA
  for (const [name, ca, ext] of [['a', 'ca1', 'server'], ['b', 'ca1', 'server'], ['c1', 'ca1', 'client'], ['c2', 'ca2', 'client']]) {
    const cn = ext === 'server' ? `${name}.test` : name;
    sh(`openssl req ${key} -subj /CN=${cn} -keyout ${name}.key -out ${name}.csr
        openssl x509 -req -in ${name}.csr -CA ${ca}.pem -CAkey ${ca}.key -CAcreateserial -days 2 -extfile ${ext}.ext -out ${name}.pem`);
  }
  return (n) => path.join(dir, n);
}

// Replaces a file the way operators and Kubernetes do: a new file renamed over the old one.
function replace(dst, content) {
  fs.writeFileSync(`${dst}.tmp`, content);
  fs.renameSync(`${dst}.tmp`, dst);
}

// The subject of the certificate a new TLS connection to the port is served.
function servedSubject(port) {
  const out = execFileSync('bash', ['-c', `openssl s_client -connect 127.0.0.1:${port} -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -subject`], { encoding: 'utf8', timeout: scaled(10000) });
  return out.trim().replace(/\s/g, '');
}

// One Export over a fresh TLS connection (its own channel, closed after). Resolves with the code.
function grpcExport(port, f, { client } = {}) {
  const creds = client
    ? grpc.credentials.createSsl(fs.readFileSync(f('ca1.pem')), fs.readFileSync(f(`${client}.key`)), fs.readFileSync(f(`${client}.pem`)))
    : grpc.credentials.createSsl(fs.readFileSync(f('ca1.pem')));
  const c = new grpc.Client(`127.0.0.1:${port}`, creds, {
    'grpc.ssl_target_name_override': 'localhost',
    'grpc.use_local_subchannel_pool': 1,
  });
  const req = traceRequest({ n: 1, tag: 'tls-reload' });
  return new Promise((resolve) => {
    c.makeUnaryRequest(TRACES, (b) => b, (b) => b, Buffer.from(req.bytes), new grpc.Metadata(),
      { deadline: Date.now() + scaled(5000) }, (err) => {
        c.close();
        resolve(err ? err.code : grpc.status.OK);
      });
  });
}

async function httpsPost(port, f, dir, { client } = {}) {
  const file = path.join(dir, 'req.bin');
  fs.writeFileSync(file, traceRequest({ n: 1, tag: 'tls-reload-http' }).bytes);
  const auth = client ? ['--cert', f(`${client}.pem`), '--key', f(`${client}.key`)] : [];
  const res = await curl(['--cacert', f('ca1.pem'), ...auth, '-H', 'Content-Type: application/x-protobuf',
    '--data-binary', `@${file}`, `https://127.0.0.1:${port}/v1/traces`]);
  return res.status;
}

test('reload_interval: a replaced certificate is served to new connections, a broken one is not', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmotlp-tls-reload-'));
  try {
    const f = makePki(dir);
    fs.copyFileSync(f('a.pem'), f('cert.pem'));
    fs.copyFileSync(f('a.key'), f('key.pem'));
    const tls = ['tls:', `  cert_file: ${f('cert.pem')}`, `  key_file: ${f('key.pem')}`, '  reload_interval: 1s'];
    await withStack({ config: { http: true, grpcYaml: tls, httpYaml: tls } }, async ({ sink, llm }) => {
      const ports = { grpc: llm.port, http: llm.httpPort };
      for (const p of Object.values(ports)) assert.equal(servedSubject(p), 'subject=CN=a.test');
      assert.equal(await grpcExport(ports.grpc, f), grpc.status.OK);
      assert.equal(await httpsPost(ports.http, f, dir), 200);

      replace(f('cert.pem'), fs.readFileSync(f('b.pem')));
      replace(f('key.pem'), fs.readFileSync(f('b.key')));
      await sleep(1300); // past reload_interval: the next handshake polls and reloads
      for (const [proto, p] of Object.entries(ports)) assert.equal(servedSubject(p), 'subject=CN=b.test', proto);
      assert.equal(await grpcExport(ports.grpc, f), grpc.status.OK);
      assert.equal(await httpsPost(ports.http, f, dir), 200);

      // broken: garbage, then a certificate whose key is not the one on disk; B keeps serving
      for (const [what, cert] of [['garbage', 'not a certificate\n'], ['a mismatched key', fs.readFileSync(f('a.pem'))]]) {
        replace(f('cert.pem'), cert);
        await sleep(1300);
        for (const [proto, p] of Object.entries(ports)) assert.equal(servedSubject(p), 'subject=CN=b.test', `${proto}, ${what}`);
        assert.equal(await grpcExport(ports.grpc, f), grpc.status.OK, what);
        assert.equal(await httpsPost(ports.http, f, dir), 200, what);
      }
      // repaired: the matching key lands, A is served again
      replace(f('key.pem'), fs.readFileSync(f('a.key')));
      await sleep(1300);
      for (const [proto, p] of Object.entries(ports)) assert.equal(servedSubject(p), 'subject=CN=a.test', proto);

      await sink.waitFor((s) => s.spans().length >= 8, scaled(10000));
      const log = fs.readFileSync(llm.logPath, 'utf8');
      assert.match(log, /protocols\.grpc\.tls: certificate and key reloaded/);
      assert.match(log, /protocols\.http\.tls: certificate and key reloaded/);
      assert.match(log, /protocols\.(grpc|http)\.tls: certificate reload failed, still serving the previous one/);
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('client_ca_file_reload: a swapped client CA admits its clients and no longer the old ones', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmotlp-tls-reload-'));
  try {
    const f = makePki(dir);
    fs.copyFileSync(f('ca1.pem'), f('client_ca.pem'));
    const tls = ['tls:', `  cert_file: ${f('a.pem')}`, `  key_file: ${f('a.key')}`,
      `  client_ca_file: ${f('client_ca.pem')}`, '  client_ca_file_reload: true'];
    await withStack({ config: { http: true, grpcYaml: tls, httpYaml: tls } }, async ({ llm }) => {
      assert.equal(await grpcExport(llm.port, f, { client: 'c1' }), grpc.status.OK);
      assert.notEqual(await grpcExport(llm.port, f, { client: 'c2' }), grpc.status.OK);
      assert.equal(await httpsPost(llm.httpPort, f, dir, { client: 'c1' }), 200);
      assert.notEqual(await httpsPost(llm.httpPort, f, dir, { client: 'c2' }), 200);

      replace(f('client_ca.pem'), fs.readFileSync(f('ca2.pem')));
      await sleep(1300); // the CA file is polled once a second, at a handshake
      assert.equal(await grpcExport(llm.port, f, { client: 'c2' }), grpc.status.OK);
      assert.notEqual(await grpcExport(llm.port, f, { client: 'c1' }), grpc.status.OK);
      assert.equal(await httpsPost(llm.httpPort, f, dir, { client: 'c2' }), 200);
      assert.notEqual(await httpsPost(llm.httpPort, f, dir, { client: 'c1' }), 200);

      // a broken CA file keeps ca2
      replace(f('client_ca.pem'), 'no certificate here\n');
      await sleep(1300);
      assert.equal(await grpcExport(llm.port, f, { client: 'c2' }), grpc.status.OK);
      assert.equal(await httpsPost(llm.httpPort, f, dir, { client: 'c2' }), 200);
      const log = fs.readFileSync(llm.logPath, 'utf8');
      assert.match(log, /protocols\.grpc\.tls: client CA reloaded/);
      assert.match(log, /protocols\.http\.tls: client CA reloaded/);
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
