// zpages-pprof.test.mjs — the zpages and pprof extensions of a running llmotlp binary, fetched
// with plain HTTP GETs as an operator's browser or curl would.
// The one idea: the pages must describe this process and this config — the pipeline IDs and
// their components from the YAML on pipelinez, the extensions on extensionz, this pid's argv on
// servicez and cmdline — and Go-only profiles must answer 501, never something that looks like
// a profile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Llmotlp, binaryPath, stopLlmotlp } from './lib/llmotlp.mjs';
import { freePort, waitForPort } from './lib/ports.mjs';
import { httpRequest } from './lib/httpclient.mjs';
import { scaled } from './lib/util.mjs';

test('zpages and pprof: pages of the running process', async () => {
  const [zp, pp, rp] = [await freePort(), await freePort(), await freePort()];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmotlp-zp-'));
  const configPath = path.join(dir, 'config.yaml');
  fs.writeFileSync(
    configPath,
    [
      'receivers:',
      `  otlp: {protocols: {grpc: {endpoint: "127.0.0.1:${rp}"}}}`,
      'processors:',
      '  batch/llm: {}',
      'exporters:',
      '  debug: {}',
      '  debug/audit: {}',
      'extensions:',
      `  zpages: {endpoint: "127.0.0.1:${zp}"}`,
      `  pprof: {endpoint: "127.0.0.1:${pp}", block_profile_fraction: 1}`,
      'service:',
      '  extensions: [zpages, pprof]',
      '  telemetry: {metrics: {level: none}}',
      '  pipelines:',
      '    traces/genai: {receivers: [otlp], processors: [batch/llm], exporters: [debug, debug/audit]}',
      '    metrics: {receivers: [otlp], exporters: [debug]}',
      '',
    ].join('\n'),
  );
  const logPath = path.join(dir, 'llmotlp.log');
  const logFd = fs.openSync(logPath, 'a');
  const proc = spawn(binaryPath(), ['--config', configPath], { stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  const llm = new Llmotlp(proc, { port: rp, metricsPort: 0, dir, logPath, configPath });
  try {
    assert.ok(await waitForPort(rp, scaled(15000), () => !llm.alive), 'llmotlp started');
    const z = (p) => httpRequest(`http://127.0.0.1:${zp}${p}`, { method: 'GET' });
    const q = (p) => httpRequest(`http://127.0.0.1:${pp}${p}`, { method: 'GET' });

    let r = await z('/debug/pipelinez');
    assert.equal(r.status, 200);
    const html = r.body.toString();
    assert.match(html, /<td>traces\/genai<\/td><td>traces<\/td><td>otlp<\/td><td>batch\/llm<\/td><td>debug &rarr; debug\/audit<\/td>/);
    assert.match(html, /<td>metrics<\/td><td>metrics<\/td><td>otlp<\/td><td><\/td><td>debug<\/td>/);

    r = await z('/debug/extensionz');
    assert.match(r.body.toString(), /<td>zpages<\/td>[\s\S]*<td>pprof<\/td>/);

    r = await z('/debug/servicez');
    assert.equal(r.status, 200);
    assert.ok(r.body.toString().includes(`<td>${proc.pid}</td>`), 'servicez names this pid');
    assert.ok(r.body.toString().includes(configPath), 'servicez shows the command line');

    assert.equal((await z('/debug/tracez')).status, 200);
    assert.equal((await z('/debug/featurez')).status, 200);
    assert.equal((await z('/debug/rpcz')).status, 404);

    r = await q('/debug/pprof/cmdline');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.toString().split('\0'), [binaryPath(), '--config', configPath]);

    r = await q('/debug/pprof/goroutine');
    assert.equal(r.status, 200);
    assert.match(r.body.toString(), new RegExp(`\\n${proc.pid} [A-Z] `), 'the main thread is listed');

    r = await q('/debug/pprof/heap');
    // heap totals, or (ASan build: another allocator) the note that there are none
    assert.match(r.body.toString(), /\nheap_in_use \d+\n|glibc's malloc is not the allocator/);
    assert.match(r.body.toString(), /\nVmRSS \d+\n/);
    assert.match(r.headers['content-type'], /^text\/plain/);

    r = await q('/debug/pprof/profile?seconds=1');
    assert.equal(r.status, 501);
    assert.match(r.body.toString(), /perf record/);

    const log = llm.log();
    assert.match(log, /extensions\.pprof\.block_profile_fraction: accepted but has no effect/);
    assert.deepEqual(await stopLlmotlp(llm), { code: 0, signal: null });
    assert.equal((await z('/debug/servicez')).status, 0, 'nothing serves after shutdown');
  } catch (e) {
    llm.dumpLog('test failed');
    throw e;
  } finally {
    if (llm.alive) await llm.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
