// llmotlp.mjs — runs the llmotlp binary under test as a child process.
// The one idea: each test gets its own process, its own generated Collector YAML in a temp
// dir and its own log file; the test is only handed the process once its receiver port
// accepts connections, and stop() checks the graceful-exit contract (SIGTERM -> exit 0
// within a bound). The log is printed when anything about the process goes wrong.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from './ports.mjs';
import { scaled } from './util.mjs';

// Children still running when this test file's process ends (a test timed out or threw
// before its teardown) are killed by pid, so no llmotlp outlives the suite.
const liveChildren = new Set();
process.on('exit', () => {
  for (const proc of liveChildren) proc.kill('SIGKILL');
});

export function binaryPath() {
  const bin = process.env.LLMOTLP_BIN;
  if (!bin) throw new Error('LLMOTLP_BIN is not set (path to the llmotlp binary)');
  if (!fs.existsSync(bin)) throw new Error(`LLMOTLP_BIN=${bin} does not exist`);
  return bin;
}

/**
 * Collector YAML for: otlp receiver (grpc, and http when httpPort is given) -> [processors]
 * -> otlp or otlphttp exporter, for all three signals. Retry intervals are short so outage tests finish quickly.
 */
export function makeConfig({
  receiverPort,
  metricsPort,
  exporterEndpoint,
  maxRecvMsgSizeMib,
  processors = [],
  // per-signal processor lists ({traces: [...], logs: [...]}), overriding `processors` for
  // the signals named (a traces/logs-only processor such as tail_sampling)
  pipelineProcessors = {},
  processorsYaml = '',
  exporterTimeout = '5s',
  maxElapsedTime = '60s',
  numConsumers = 2,
  queueSize = 1000,
  // sending_queue.sizer: requests (default), items or bytes; queue_size is in that unit
  queueSizer,
  logLevel = 'debug',
  // OTLP/HTTP receiver protocol, served next to gRPC when httpPort is given
  httpPort,
  maxRequestBodySize,
  corsAllowedOrigins,
  corsAllowedHeaders,
  // more keys under protocols.http, as YAML lines indented for that level ('read_header_timeout: 2s')
  httpYaml = [],
  // more keys under protocols.grpc, as YAML lines indented for that level ('tls:', '  cert_file: f')
  grpcYaml = [],
  // 'otlp' (gRPC) or 'otlphttp'; for otlphttp exporterEndpoint is a base URL
  exporter = 'otlp',
  encoding,
  compression,
  overflowWait,
  // health_check extension on 127.0.0.1:healthPort when given
  healthPort,
  healthPath,
  // more health_check keys, as YAML lines indented for that level
  healthYaml,
  // persistent sending queue: a file_storage extension ({directory, fsync, createDirectory})
  // named by the exporter's sending_queue.storage
  storage,
  // sending_queue.batch: an object of its keys ({flush_timeout, min_size, ...}); {} = defaults
  queueBatch,
  // YAML lines under service.telemetry (indented for that level), replacing the default logs
  // level and metrics address
  telemetryYaml,
}) {
  const lines = [
    'receivers:',
    '  otlp:',
    '    protocols:',
    '      grpc:',
    `        endpoint: 127.0.0.1:${receiverPort}`,
  ];
  if (maxRecvMsgSizeMib !== undefined) lines.push(`        max_recv_msg_size_mib: ${maxRecvMsgSizeMib}`);
  for (const l of grpcYaml) lines.push(`        ${l}`);
  if (httpPort) {
    lines.push('      http:', `        endpoint: 127.0.0.1:${httpPort}`);
    if (maxRequestBodySize !== undefined) lines.push(`        max_request_body_size: ${maxRequestBodySize}`);
    for (const l of httpYaml) lines.push(`        ${l}`);
    if (corsAllowedOrigins) {
      lines.push('        cors:', `          allowed_origins: ${JSON.stringify(corsAllowedOrigins)}`);
      if (corsAllowedHeaders) lines.push(`          allowed_headers: ${JSON.stringify(corsAllowedHeaders)}`);
    }
  }
  if (processorsYaml) lines.push('processors:', processorsYaml.replace(/\n$/, ''));
  lines.push(
    'exporters:',
    `  ${exporter}:`,
    `    endpoint: ${exporterEndpoint}`,
    ...(exporter === 'otlp' ? ['    tls:', '      insecure: true'] : []),
    ...(encoding ? [`    encoding: ${encoding}`] : []),
    ...(compression ? [`    compression: ${compression}`] : []),
    `    timeout: ${exporterTimeout}`,
    '    retry_on_failure:',
    '      enabled: true',
    '      initial_interval: 100ms',
    '      max_interval: 1s',
    `      max_elapsed_time: ${maxElapsedTime}`,
    '    sending_queue:',
    '      enabled: true',
    `      num_consumers: ${numConsumers}`,
    `      queue_size: ${queueSize}`,
    ...(queueSizer ? [`      sizer: ${queueSizer}`] : []),
    ...(overflowWait ? [`      overflow_wait: ${overflowWait}`] : []),
    ...(storage ? ['      storage: file_storage'] : []),
    ...(queueBatch
      ? [`      batch: {${Object.entries(queueBatch).map(([k, v]) => `${k}: ${v}`).join(', ')}}`]
      : []),
  );
  const extensions = [];
  if (healthPort || storage) lines.push('extensions:');
  if (healthPort) {
    lines.push('  health_check:', `    endpoint: 127.0.0.1:${healthPort}`);
    if (healthPath) lines.push(`    path: ${healthPath}`);
    for (const l of healthYaml ?? []) lines.push(`    ${l}`);
    extensions.push('health_check');
  }
  if (storage) {
    lines.push('  file_storage:', `    directory: ${JSON.stringify(storage.directory)}`);
    if (storage.fsync) lines.push('    fsync: true');
    if (storage.createDirectory) lines.push('    create_directory: true');
    extensions.push('file_storage');
  }
  lines.push(
    'service:',
    ...(extensions.length ? [`  extensions: [${extensions.join(', ')}]`] : []),
    '  telemetry:',
    ...(telemetryYaml
      ? telemetryYaml.map((l) => `    ${l}`)
      : [
          '    logs:',
          `      level: ${logLevel}`,
          // own metrics on a port of this test's, never the default :8888 another run may hold
          '    metrics:',
          ...(metricsPort ? [`      address: 127.0.0.1:${metricsPort}`] : ['      level: none']),
        ]),
    '  pipelines:',
  );
  for (const signal of ['traces', 'metrics', 'logs']) {
    const list = pipelineProcessors[signal] ?? processors;
    const procs = list.length ? `, processors: [${list.join(', ')}]` : '';
    lines.push(`    ${signal}: {receivers: [otlp]${procs}, exporters: [${exporter}]}`);
  }
  return lines.join('\n') + '\n';
}

export class Llmotlp {
  constructor(proc, { port, metricsPort, dir, logPath, configPath }) {
    this.proc = proc;
    this.port = port;
    this.metricsPort = metricsPort; // Prometheus text at http://127.0.0.1:<metricsPort>/metrics
    this.dir = dir;
    this.logPath = logPath;
    this.configPath = configPath;
    this.exit = null; // {code, signal} once exited
    liveChildren.add(proc);
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        liveChildren.delete(proc);
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  get endpoint() {
    return `127.0.0.1:${this.port}`;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Base URL of the OTLP/HTTP receiver (config option http or httpPort). */
  get httpUrl() {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  get healthUrl() {
    return `http://127.0.0.1:${this.healthPort}`;
  }

  get metricsUrl() {
    return `http://127.0.0.1:${this.metricsPort}/metrics`;
  }

  get alive() {
    return this.exit === null;
  }

  log() {
    try {
      return fs.readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  /** Print the process's output (stderr + stdout) with a header, for failing tests. */
  dumpLog(reason = '') {
    const text = this.log();
    let tail = text.length > 20000 ? '...[cut]...\n' + text.slice(-20000) : text;
    tail = tail.replace(/\t/g, '  '); // the test runner would show tabs as \\t
    process.stderr.write(
      `\n----- llmotlp log (${this.logPath})${reason ? ': ' + reason : ''} -----\n${tail}\n----- end of llmotlp log -----\n`,
    );
  }

  /** Send SIGTERM and wait for exit, at most `timeoutMs`; returns {code, signal} or null on timeout. */
  async terminate(timeoutMs = scaled(15000)) {
    if (this.exit) return this.exit;
    this.proc.kill('SIGTERM');
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    const result = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    return result;
  }

  /** Last resort for cleanup after a failed test: SIGKILL this child (by its pid). */
  async kill() {
    if (this.exit) return;
    this.proc.kill('SIGKILL');
    await this.exited;
  }
}

/**
 * Start llmotlp with a generated config. `configOpts` go to makeConfig (receiverPort and
 * metricsPort are chosen here when absent; the handle's metricsUrl serves /metrics; `http: true`
 * and `health: true` add the HTTP receiver (httpUrl) and health_check (healthUrl) on free
 * ports; `env` adds variables to the process's environment). Resolves once the receiver ports
 * accept connections.
 */
export async function startLlmotlp(configOpts) {
  const bin = binaryPath();
  const port = configOpts.receiverPort ?? (await freePort());
  const metricsPort = configOpts.metricsPort ?? (await freePort());
  // `http: true` / `health: true` ask for the HTTP receiver / health_check on free ports
  const httpPort = configOpts.httpPort ?? (configOpts.http ? await freePort() : undefined);
  const healthPort = configOpts.healthPort ?? (configOpts.health ? await freePort() : undefined);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmotlp-e2e-'));
  const configPath = path.join(dir, 'config.yaml');
  const logPath = path.join(dir, 'llmotlp.log');
  fs.writeFileSync(configPath, makeConfig({ ...configOpts, receiverPort: port, metricsPort, httpPort, healthPort }));
  const logFd = fs.openSync(logPath, 'a');
  const proc = spawn(bin, ['--config', configPath], {
    stdio: ['ignore', logFd, logFd],
    env: configOpts.env ? { ...process.env, ...configOpts.env } : process.env,
  });
  fs.closeSync(logFd);
  const handle = new Llmotlp(proc, { port, metricsPort, dir, logPath, configPath });
  handle.httpPort = httpPort;
  handle.healthPort = healthPort;
  let spawnError = null;
  proc.once('error', (err) => {
    spawnError = err;
  });
  const stopWaiting = () => handle.exit !== null || spawnError !== null;
  let up = await waitForPort(port, scaled(15000), stopWaiting);
  if (up && httpPort) up = await waitForPort(httpPort, scaled(15000), stopWaiting);
  if (!up) {
    const why = spawnError
      ? `spawn failed: ${spawnError.message}`
      : handle.exit
        ? `exited early with ${JSON.stringify(handle.exit)}`
        : 'receiver port never accepted connections';
    handle.dumpLog(why);
    await handle.kill();
    throw new Error(`llmotlp did not start: ${why}\nconfig:\n${fs.readFileSync(configPath, 'utf8')}`);
  }
  return handle;
}

/**
 * Stop llmotlp with SIGTERM and return its exit; on a timeout it is killed and the
 * result is null. Callers assert on the returned value.
 */
export async function stopLlmotlp(handle, timeoutMs) {
  const res = await handle.terminate(timeoutMs);
  if (res === null) {
    handle.dumpLog('did not exit after SIGTERM');
    await handle.kill();
  } else if (res.code !== 0) {
    handle.dumpLog(`exit ${JSON.stringify(res)}`);
  }
  return res;
}
