// sink.mjs — the downstream OTLP/gRPC server llmotlp exports to in the tests.
// The one idea: every Export call is decoded and recorded with its outcome, so a test can
// compare content (not just counts) and see duplicates; the server can be stopped and
// started again on the same port, told to fail the next K calls, or to answer slowly,
// which is how the tests simulate an outage, a throttling backend, and a slow backend.
import grpc from '@grpc/grpc-js';
import { serviceDefinition } from './proto.mjs';
import { freePort } from './ports.mjs';
import { sleep } from './util.mjs';

export class Sink {
  /**
   * @param {{port?: number, host?: string}} opts port 0 or absent = pick a free one at first
   * start; host: the address to listen on (default 127.0.0.1; the container suite listens on a
   * Docker network's gateway address so a container can reach it).
   */
  constructor(opts = {}) {
    this.port = opts.port ?? 0;
    this.host = opts.host ?? '127.0.0.1';
    this.server = null;
    /** Every call, accepted or not: {signal, request, metadata, at, code}. */
    this.calls = [];
    this._failLeft = 0;
    this._failCode = grpc.status.UNAVAILABLE;
    this.delayMs = 0;
  }

  get endpoint() {
    return `${this.host}:${this.port}`;
  }

  get running() {
    return this.server !== null;
  }

  /** Answer the next `n` Export calls (any signal) with `code` instead of OK. */
  failNext(n, code = grpc.status.UNAVAILABLE) {
    this._failLeft = n;
    this._failCode = code;
  }

  /** Calls answered OK, optionally of one signal. */
  accepted(signal) {
    return this.calls.filter((c) => c.code === grpc.status.OK && (!signal || c.signal === signal));
  }

  rejected(signal) {
    return this.calls.filter((c) => c.code !== grpc.status.OK && (!signal || c.signal === signal));
  }

  _handler(signal) {
    return (call, callback) => {
      const rec = {
        signal,
        request: call.request,
        metadata: call.metadata.getMap(),
        at: Date.now(),
        code: grpc.status.OK,
      };
      let error = null;
      if (this._failLeft > 0) {
        this._failLeft -= 1;
        rec.code = this._failCode;
        error = { code: this._failCode, details: 'sink told to fail this call' };
      }
      this.calls.push(rec);
      const answer = () => (error ? callback(error) : callback(null, {}));
      if (this.delayMs > 0) setTimeout(answer, this.delayMs);
      else answer();
    };
  }

  async start() {
    if (this.server) throw new Error('sink already running');
    if (!this.port) this.port = await freePort();
    const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
    for (const signal of ['traces', 'metrics', 'logs']) {
      server.addService(serviceDefinition(signal), { Export: this._handler(signal) });
    }
    // The port was free a moment ago or was ours before a stop(); the OS may take a
    // short while to release it after a forced shutdown, so retry binding briefly.
    let lastErr;
    for (let i = 0; i < 50; i++) {
      try {
        await new Promise((resolve, reject) => {
          server.bindAsync(this.endpoint, grpc.ServerCredentials.createInsecure(), (err, port) =>
            err ? reject(err) : resolve(port),
          );
        });
        this.server = server;
        return this;
      } catch (err) {
        lastErr = err;
        await sleep(100);
      }
    }
    throw new Error(`sink could not bind ${this.endpoint}: ${lastErr}`);
  }

  /** Stop abruptly (in-flight calls are cancelled), like a backend that goes away. */
  async stop() {
    if (!this.server) return;
    const server = this.server;
    this.server = null;
    server.forceShutdown();
    await sleep(50);
  }

  /** Poll `predicate(this)` until true or `timeoutMs` passes; returns the last value. */
  async waitFor(predicate, timeoutMs, intervalMs = 50) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = predicate(this);
      if (v || Date.now() >= end) return v;
      await sleep(intervalMs);
    }
  }

  /** Accepted spans, flattened: [{resource, scope, span}]. */
  spans() {
    const out = [];
    for (const c of this.accepted('traces')) {
      for (const rs of c.request.resource_spans ?? []) {
        for (const ss of rs.scope_spans ?? []) {
          for (const span of ss.spans ?? []) out.push({ resource: rs.resource, scope: ss.scope, span });
        }
      }
    }
    return out;
  }

  /** Accepted metric data points, flattened: [{resource, scope, metric, type, point}]. */
  metricPoints() {
    const out = [];
    for (const c of this.accepted('metrics')) {
      for (const rm of c.request.resource_metrics ?? []) {
        for (const sm of rm.scope_metrics ?? []) {
          for (const metric of sm.metrics ?? []) {
            const type = metric.data; // oneof name: sum, gauge, histogram, ...
            for (const point of metric[type]?.data_points ?? []) {
              out.push({ resource: rm.resource, scope: sm.scope, metric, type, point });
            }
          }
        }
      }
    }
    return out;
  }

  /** Accepted log records, flattened: [{resource, scope, record}]. */
  logRecords() {
    const out = [];
    for (const c of this.accepted('logs')) {
      for (const rl of c.request.resource_logs ?? []) {
        for (const sl of rl.scope_logs ?? []) {
          for (const record of sl.log_records ?? []) out.push({ resource: rl.resource, scope: sl.scope, record });
        }
      }
    }
    return out;
  }
}
