// prometheus-tls-openmetrics.test.mjs — the prometheus exporter's scrape endpoint over TLS
// (`tls`) in OpenMetrics (`enable_open_metrics`), scraped by a real Prometheus.
// The one idea: Prometheus asks for OpenMetrics first in its Accept header and verifies the
// endpoint's certificate against the CA of its tls_config, so if its query API returns the
// numbers sent, the handshake and the OpenMetrics exposition were both accepted by the consumer
// that matters; its metadata API then shows the counter under its OpenMetrics family name
// (without _total), which only the OpenMetrics parser produces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, execFileSync } from 'node:child_process';
import { binaryPath } from './lib/llmotlp.mjs';
import { startPrometheus } from './lib/prometheus.mjs';
import { postOtlp, curl } from './lib/httpclient.mjs';
import { freePort, waitForPort } from './lib/ports.mjs';
import { scaled } from './lib/util.mjs';

function makePki(dir) {
  const sh = (script) => execFileSync('bash', ['-c', `set -e; cd ${dir}; ${script}`], { stdio: 'pipe' });
  const key = '-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes';
  sh(`openssl req -x509 ${key} -days 2 -subj /CN=e2e-ca -keyout ca.key -out ca.pem`);
  sh(`openssl req ${key} -subj /CN=localhost -keyout server.key -out server.csr
      printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > server.ext
      openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext -out server.pem`);
  const f = (n) => path.join(dir, n);
  return { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key') };
}

// One OTLP/JSON metrics request: a monotonic cumulative counter and a histogram.
function metricsBody(count) {
  const now = `${BigInt(Date.now()) * 1000000n}`;
  const start = `${(BigInt(Date.now()) - 60000n) * 1000000n}`;
  return Buffer.from(JSON.stringify({
    resourceMetrics: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'gateway' } }] },
      scopeMetrics: [{
        scope: { name: 'e2e' },
        metrics: [
          {
            name: 'llm.requests', unit: '{request}', description: 'LLM requests',
            sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ startTimeUnixNano: start, timeUnixNano: now, asInt: String(count), attributes: [{ key: 'gen_ai.system', value: { stringValue: 'openai' } }] }] },
          },
          {
            name: 'llm.duration', unit: 's', description: 'LLM call duration',
            histogram: { aggregationTemporality: 2, dataPoints: [{ startTimeUnixNano: start, timeUnixNano: now, count: '3', sum: 2.5, bucketCounts: ['1', '1', '1'], explicitBounds: [0.5, 1] }] },
          },
        ],
      }],
    }],
  }));
}

test('prometheus exporter: a real Prometheus scrapes it over TLS in OpenMetrics', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmotlp-promtls-'));
  let llm = null;
  let prom = null;
  try {
    const pki = makePki(dir);
    const [grpcPort, httpPort, promPort] = [await freePort(), await freePort(), await freePort()];
    const configPath = path.join(dir, 'config.yaml');
    fs.writeFileSync(configPath, [
      'receivers:',
      '  otlp:',
      '    protocols:',
      `      grpc: {endpoint: 127.0.0.1:${grpcPort}}`,
      `      http: {endpoint: 127.0.0.1:${httpPort}}`,
      'exporters:',
      '  prometheus:',
      `    endpoint: 127.0.0.1:${promPort}`,
      '    enable_open_metrics: true',
      '    tls:',
      `      cert_file: ${pki.cert}`,
      `      key_file: ${pki.key}`,
      '      min_version: "1.2"',
      'service:',
      '  telemetry:',
      '    metrics: {level: none}',
      '  pipelines:',
      '    metrics: {receivers: [otlp], exporters: [prometheus]}',
      '',
    ].join('\n'));
    const logPath = path.join(dir, 'llmotlp.log');
    const logFd = fs.openSync(logPath, 'a');
    llm = spawn(binaryPath(), ['--config', configPath], { stdio: ['ignore', logFd, logFd] });
    fs.closeSync(logFd);
    let exited = false;
    llm.once('exit', () => { exited = true; });
    assert.ok(await waitForPort(promPort, scaled(15000), () => exited), `llmotlp did not serve :${promPort}\n${fs.readFileSync(logPath, 'utf8')}`);
    assert.ok(await waitForPort(httpPort, scaled(15000), () => exited));

    const res = await postOtlp(`http://127.0.0.1:${httpPort}`, 'metrics', metricsBody(7), { contentType: 'application/json' });
    assert.equal(res.status, 200);

    // plain HTTP on the TLS port gets no metrics; HTTPS with the CA and Prometheus' Accept does
    const plain = await curl([`http://127.0.0.1:${promPort}/metrics`]);
    assert.notEqual(plain.status, 200);
    const accept = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
    const om = await curl(['--cacert', pki.ca, '-H', `Accept: ${accept}`, `https://localhost:${promPort}/metrics`]);
    assert.equal(om.status, 200, om.stderr);
    assert.equal(om.headers['content-type'], 'application/openmetrics-text; version=1.0.0; charset=utf-8');
    const text = om.body.toString();
    assert.match(text, /^# TYPE llm_requests counter$/m);
    assert.match(text, /^llm_requests_total\{job="gateway",otel_scope_name="e2e",gen_ai_system="openai"\} 7\.0$/m);
    assert.ok(text.endsWith('# EOF\n'), text);
    // a scraper that does not ask for OpenMetrics gets the text format
    const txt = await curl(['--cacert', pki.ca, `https://localhost:${promPort}/metrics`]);
    assert.equal(txt.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(txt.body.toString(), /^# TYPE llm_requests_total counter$/m);

    prom = await startPrometheus({ targets: [`127.0.0.1:${promPort}`], caFile: pki.ca, serverName: 'localhost' });
    const got = await prom.waitForValue('llm_requests_total{gen_ai_system="openai"}', (v) => v === 7);
    assert.equal(got, 7, `Prometheus log:\n${prom.log()}\ntargets: ${JSON.stringify(await prom.targets())}`);
    assert.equal(await prom.queryValue('llm_duration_seconds_count'), 3);
    assert.equal(await prom.queryValue('llm_duration_seconds_bucket{le="1.0"}'), 2);
    const targets = await prom.targets();
    assert.equal(targets.length, 1);
    assert.equal(targets[0].health, 'up', JSON.stringify(targets[0]));
    assert.equal(targets[0].scrapeUrl, `https://127.0.0.1:${promPort}/metrics`);
    // the counter's metadata is under the OpenMetrics family name (the text parser would
    // have named it llm_requests_total)
    const meta = await (await fetch(`${prom.url}/api/v1/metadata?metric=llm_requests`)).json();
    assert.equal(meta.data.llm_requests?.[0]?.type, 'counter', JSON.stringify(meta));

    // a second export moves the counter; Prometheus sees it through the same TLS scrape
    assert.equal((await postOtlp(`http://127.0.0.1:${httpPort}`, 'metrics', metricsBody(12), { contentType: 'application/json' })).status, 200);
    assert.equal(await prom.waitForValue('llm_requests_total{gen_ai_system="openai"}', (v) => v === 12), 12);
  } finally {
    if (prom) await prom.stop();
    if (llm && llm.exitCode === null) {
      llm.kill('SIGTERM');
      await new Promise((r) => llm.once('exit', r));
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
