// httpsink.mjs — the downstream OTLP/HTTP server llmotlp's otlphttp exporter sends to in
// the tests: plain node:http, not built on anything of llmotlp's.
// The one idea: each POST is decoded according to its own Content-Type (protobuf with the
// official protos; JSON through the spec's mapping) into the same proto3 canonical form
// (lib/otlpjson.mjs) after honouring Content-Encoding, and recorded with its outcome — so the same item-by-item
// comparison as for the gRPC sink applies, whatever encoding the exporter chose. Like the
// gRPC sink it can be told to refuse the next K requests (503 + Retry-After), to answer
// slowly, or to hold every request until released, which is how backpressure is simulated.
import http from 'node:http';
import zlib from 'node:zlib';
import { jsonToDecoded, canonicalDecode } from './otlpjson.mjs';
import { flatten } from './compare.mjs';
import { freePort } from './ports.mjs';
import { sleep } from './util.mjs';

const PATHS = { '/v1/traces': 'traces', '/v1/metrics': 'metrics', '/v1/logs': 'logs' };

export class HttpSink {
  constructor(opts = {}) {
    this.port = opts.port ?? 0;
    this.server = null;
    /**
     * Every request: {signal, status, contentType, contentEncoding, headers, bodyBytes,
     * request (decoded, when it decoded), error (why it did not), at}.
     */
    this.calls = [];
    this._failLeft = 0;
    this._failStatus = 503;
    this._retryAfter = '1';
    this.delayMs = 0;
    this._held = null; // array of release functions while holding
    this._sockets = new Set();
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  get running() {
    return this.server !== null;
  }

  /** Answer the next `n` valid requests with `status` and a Retry-After of `retryAfter` seconds. */
  failNext(n, status = 503, retryAfter = '1') {
    this._failLeft = n;
    this._failStatus = status;
    this._retryAfter = retryAfter;
  }

  /** From now on, requests are recorded on arrival but not answered until release(). */
  hold() {
    if (!this._held) this._held = [];
  }

  /** Answer every held request and stop holding. */
  release() {
    const held = this._held ?? [];
    this._held = null;
    for (const answer of held) answer();
  }

  accepted(signal) {
    return this.calls.filter((c) => c.status === 200 && (!signal || c.signal === signal));
  }

  rejected(signal) {
    return this.calls.filter((c) => c.status !== 200 && (!signal || c.signal === signal));
  }

  _handle(req, res) {
    const chunks = [];
    let gone = false; // the connection closed before this request was answered
    res.on('close', () => {
      if (!res.writableFinished) gone = true;
    });
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const rec = {
        signal: PATHS[req.url.split('?')[0]],
        method: req.method,
        url: req.url,
        headers: req.headers,
        contentType: (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase(),
        contentEncoding: (req.headers['content-encoding'] ?? '').toLowerCase(),
        bodyBytes: 0,
        request: undefined,
        error: undefined,
        status: 0, // 0 while not answered yet
        at: Date.now(),
      };
      this.calls.push(rec);
      const json = rec.contentType === 'application/json';
      // rec.status is set only once the answer is written: a held request counts as nothing.
      const send = (status, extraHeaders = {}, body) => {
        const payload = body ?? (json ? Buffer.from('{}') : Buffer.alloc(0));
        const answer = () => {
          if (gone || res.destroyed) {
            rec.status = -1; // the client went away before the answer: not delivered
            return;
          }
          res.writeHead(status, {
            'Content-Type': json ? 'application/json' : 'application/x-protobuf',
            'Content-Length': payload.length,
            ...extraHeaders,
          });
          res.end(payload);
          rec.status = status;
        };
        if (this._held) this._held.push(answer);
        else if (this.delayMs > 0) setTimeout(answer, this.delayMs);
        else answer();
      };
      if (req.method !== 'POST') return send(405, { Allow: 'POST' });
      if (!rec.signal) return send(404);
      let body = Buffer.concat(chunks);
      try {
        if (rec.contentEncoding === 'gzip') body = zlib.gunzipSync(body);
        else if (rec.contentEncoding && rec.contentEncoding !== 'identity') throw new Error(`unexpected Content-Encoding ${rec.contentEncoding}`);
        rec.bodyBytes = body.length;
        if (rec.contentType === 'application/x-protobuf') rec.request = canonicalDecode(rec.signal, body);
        else if (json) rec.request = jsonToDecoded(rec.signal, body);
        else return send(415);
      } catch (err) {
        rec.error = err.message;
        return send(400);
      }
      if (this._failLeft > 0) {
        this._failLeft -= 1;
        return send(this._failStatus, { 'Retry-After': this._retryAfter });
      }
      send(200);
    });
  }

  async start() {
    if (this.server) throw new Error('http sink already running');
    if (!this.port) this.port = await freePort();
    const server = http.createServer({ keepAliveTimeout: 30000 }, (req, res) => this._handle(req, res));
    server.on('connection', (s) => {
      this._sockets.add(s);
      s.on('close', () => this._sockets.delete(s));
    });
    let lastErr;
    for (let i = 0; i < 50; i++) {
      try {
        await new Promise((resolve, reject) => {
          server.once('error', reject);
          server.listen(this.port, '127.0.0.1', () => {
            server.off('error', reject);
            resolve();
          });
        });
        this.server = server;
        return this;
      } catch (err) {
        lastErr = err;
        await sleep(100);
      }
    }
    throw new Error(`http sink could not bind ${this.url}: ${lastErr}`);
  }

  /** Stop abruptly: open connections are destroyed, held requests are never answered. */
  async stop() {
    if (!this.server) return;
    const server = this.server;
    this.server = null;
    this._held = null;
    for (const s of this._sockets) s.destroy();
    await new Promise((resolve) => server.close(() => resolve()));
  }

  async waitFor(predicate, timeoutMs, intervalMs = 50) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = predicate(this);
      if (v || Date.now() >= end) return v;
      await sleep(intervalMs);
    }
  }

  _items(signal) {
    return this.accepted(signal).flatMap((c) => flatten(signal, c.request));
  }

  spans() {
    return this._items('traces');
  }

  metricPoints() {
    return this._items('metrics');
  }

  logRecords() {
    return this._items('logs');
  }
}
