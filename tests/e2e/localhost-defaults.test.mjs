// localhost-defaults.test.mjs — a Collector config with bare `grpc:` / `http:` listens on
// loopback only, as the Collector does since it stopped binding every interface by default.
// The one idea: read the listening sockets the llmotlp process itself owns (its fds' socket
// inodes matched against /proc/net/tcp and tcp6) and check each default port's address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { binaryPath } from './lib/llmotlp.mjs';
import { canConnect } from './lib/ports.mjs';
import { scaled, sleep } from './lib/util.mjs';

// Listening TCP sockets of pid: [{addr, port}] (addr as dotted IPv4 or "::"-style IPv6 hex).
function listeningSockets(pid) {
  const inodes = new Set();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      /* fd closed meanwhile */
    }
  }
  const out = [];
  for (const file of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(`/proc/${pid}/net/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9])) continue; // 0A = LISTEN
      const [hexAddr, hexPort] = f[1].split(':');
      let addr;
      if (hexAddr.length === 8) {
        addr = [3, 2, 1, 0].map((i) => parseInt(hexAddr.slice(i * 2, i * 2 + 2), 16)).join('.');
      } else {
        addr = hexAddr; // IPv6, kernel word order; compared against known forms below
      }
      out.push({ addr, port: parseInt(hexPort, 16) });
    }
  }
  return out;
}

const IPV6_LOOPBACK = '00000000000000000000000001000000';
const IPV4_MAPPED_LOOPBACK = '0000000000000000FFFF00000100007F'; // ::ffff:127.0.0.1
const IPV6_ANY = '00000000000000000000000000000000';

test('defaults: bare grpc/http, health_check and own metrics listen on loopback only', async () => {
  const ports = [4317, 4318, 8888, 13133];
  for (const p of ports) {
    if (await canConnect(p)) {
      assert.fail(`port ${p} is already in use on this machine: cannot check the defaults`);
    }
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmotlp-defaults-'));
  const config = path.join(dir, 'config.yaml');
  fs.writeFileSync(config, [
    'receivers:',
    '  otlp:',
    '    protocols:',
    '      grpc:',
    '      http:',
    'exporters:',
    '  debug:',
    'extensions:',
    '  health_check:',
    'service:',
    '  extensions: [health_check]',
    '  pipelines:',
    '    traces: {receivers: [otlp], exporters: [debug]}',
    '',
  ].join('\n'));
  const logPath = path.join(dir, 'llmotlp.log');
  const logFd = fs.openSync(logPath, 'a');
  const proc = spawn(binaryPath(), ['--config', config], { stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  try {
    const until = Date.now() + scaled(15000);
    let socks = [];
    while (Date.now() < until) {
      socks = listeningSockets(proc.pid);
      if (ports.every((p) => socks.some((s) => s.port === p))) break;
      await sleep(100);
    }
    for (const p of ports) {
      const mine = socks.filter((s) => s.port === p);
      assert.ok(mine.length > 0, `nothing listens on ${p}: ${JSON.stringify(socks)}\n${fs.readFileSync(logPath, 'utf8')}`);
      for (const s of mine) {
        assert.ok(s.addr === '127.0.0.1' || s.addr === IPV6_LOOPBACK || s.addr === IPV4_MAPPED_LOOPBACK,
          `port ${p} listens on ${s.addr}, not on loopback`);
        assert.notEqual(s.addr, '0.0.0.0');
        assert.notEqual(s.addr, IPV6_ANY);
      }
    }
    assert.ok(await canConnect(4317, '127.0.0.1'), 'reachable on 127.0.0.1');
  } finally {
    proc.kill('SIGTERM');
    const res = await exited;
    assert.deepEqual(res, { code: 0, signal: null });
  }
});
