// httpclient.mjs — the two HTTP clients the tests send raw requests with: node:http, and the
// real curl binary (an independent client, as an operator or a gateway's shell script would
// use it).
// The one idea: both resolve (never reject) with {status, headers, body}, and a server that
// answers before it has read the whole body (413 on an oversized upload) still yields its
// answer instead of a write error, so a test asserts the status the server chose.
import http from 'node:http';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { scaled } from './util.mjs';

/**
 * One request with node:http on a fresh connection. Resolves {status, headers, body: Buffer}
 * or {status: 0, error} when no answer came (connection refused, reset before any answer).
 */
export function httpRequest(url, { method = 'POST', headers = {}, body, timeoutMs = scaled(15000) } = {}) {
  return new Promise((resolve) => {
    let settled = false;
    const done = (v) => {
      if (!settled) {
        settled = true;
        resolve(v);
      }
    };
    const req = http.request(url, { method, headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', (err) => done({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), error: err.message }));
    });
    req.on('timeout', () => {
      req.destroy(new Error('timeout'));
    });
    // A write error (EPIPE/ECONNRESET) after the server answered early is not the result;
    // give the response a moment to be parsed before reporting the error.
    req.on('error', (err) => setTimeout(() => done({ status: 0, error: err.message, headers: {}, body: Buffer.alloc(0) }), 200));
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

/** POST an OTLP body to llmotlp's HTTP receiver (`base` is http://host:port). */
export function postOtlp(base, signal, body, { contentType = 'application/x-protobuf', gzip = false, headers = {} } = {}) {
  return httpRequest(`${base}/v1/${signal}`, {
    headers: {
      'Content-Type': contentType,
      ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
      'Content-Length': body.length,
      ...headers,
    },
    body,
  });
}

/**
 * Run the curl binary with `args` (the URL among them). The response headers and body go to
 * files, the status comes from --write-out. Resolves {status, headers, body, stderr, exitCode}.
 */
export function curl(args, { timeoutMs = scaled(20000) } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmotlp-curl-'));
  const headerFile = path.join(dir, 'headers');
  const bodyFile = path.join(dir, 'body');
  return new Promise((resolve) => {
    execFile(
      'curl',
      ['--silent', '--show-error', '--max-time', String(Math.ceil(timeoutMs / 1000)), '--dump-header', headerFile,
        '--output', bodyFile, '--write-out', '%{http_code}', ...args],
      { timeout: timeoutMs + 5000 },
      (err, stdout, stderr) => {
        const read = (f) => {
          try {
            return fs.readFileSync(f);
          } catch {
            return Buffer.alloc(0);
          }
        };
        const headers = {};
        // the last header block is the final response (a 100 Continue may precede it)
        const blocks = read(headerFile).toString('latin1').split(/\r?\n\r?\n/).filter((b) => b.trim());
        for (const line of (blocks[blocks.length - 1] ?? '').split(/\r?\n/).slice(1)) {
          const i = line.indexOf(':');
          if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
        }
        const body = read(bodyFile);
        fs.rmSync(dir, { recursive: true, force: true });
        resolve({ status: Number(stdout.trim()) || 0, headers, body, stderr, exitCode: err ? (err.code ?? 1) : 0 });
      },
    );
  });
}

/** Peak and current resident set size of a process, in bytes, from /proc/<pid>/status. */
export function memoryOf(pid) {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => {
    const m = text.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) * 1024 : NaN;
  };
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}
