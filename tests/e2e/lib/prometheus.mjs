// prometheus.mjs — llmotlp's own metrics as a monitoring system sees them: a parser for the
// Prometheus text exposition, and a real Prometheus server (Debian's /usr/bin/prometheus)
// run by the test, scraping llmotlp and answering PromQL over its HTTP API.
// The one idea: the exposition is checked by the consumer that matters — if Prometheus
// itself ingests it and its query API returns the numbers the test sent, the names, types
// and format are right; the parser is only for reading what llmotlp serves directly.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from './ports.mjs';
import { scaled, sleep } from './util.mjs';

export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';

function unescapeLabel(v) {
  return v.replace(/\\(["\\n])/g, (_m, c) => (c === 'n' ? '\n' : c));
}

/**
 * Parse Prometheus text format 0.0.4 into {samples: [{name, labels, value}], types: {family:
 * type}, help: {family: text}}. Throws on a line that is neither a comment nor a sample, so
 * a malformed exposition fails the test that reads it.
 */
export function parseExposition(text) {
  const samples = [];
  const types = {};
  const help = {};
  const sampleRe = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/;
  const labelRe = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/gy;
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    if (line.startsWith('#')) {
      const m = line.match(/^#\s+(HELP|TYPE)\s+(\S+)\s*(.*)$/);
      if (m && m[1] === 'TYPE') types[m[2]] = m[3].trim();
      else if (m) help[m[2]] = m[3];
      return;
    }
    const m = line.match(sampleRe);
    if (!m) throw new Error(`exposition line ${i + 1} is not a sample: ${JSON.stringify(line)}`);
    const labels = {};
    if (m[3]) {
      labelRe.lastIndex = 0;
      let lm;
      let consumed = 0;
      while (consumed < m[3].length && (lm = labelRe.exec(m[3]))) {
        labels[lm[1]] = unescapeLabel(lm[2]);
        consumed = labelRe.lastIndex;
      }
      if (consumed !== m[3].length) throw new Error(`exposition line ${i + 1}: bad labels ${JSON.stringify(m[3])}`);
    }
    const value = m[4] === '+Inf' ? Infinity : m[4] === '-Inf' ? -Infinity : Number(m[4]);
    if (Number.isNaN(value) && m[4] !== 'NaN') throw new Error(`exposition line ${i + 1}: bad value ${m[4]}`);
    samples.push({ name: m[1], labels, value });
  });
  return { samples, types, help };
}

/** Sum of the samples named `name` whose labels include every pair of `match`. */
export function sumOf(samples, name, match = {}) {
  return samples
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

/** GET llmotlp's /metrics and parse it; {status, text, ...parsed}. */
export async function scrape(url) {
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type'), text, ...parseExposition(text) };
}

export class Prometheus {
  constructor(proc, { port, dir, logPath }) {
    this.proc = proc;
    this.port = port;
    this.dir = dir;
    this.logPath = logPath;
    this.exit = null;
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  log() {
    try {
      return fs.readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  /** Instant query; resolves the API's `data.result` array (throws on an API error). */
  async query(promql) {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = await res.json();
    if (body.status !== 'success') throw new Error(`prometheus query ${promql}: ${JSON.stringify(body)}`);
    return body.data.result;
  }

  /** One number from an instant query that must return at most one series (NaN when none). */
  async queryValue(promql) {
    const result = await this.query(promql);
    if (result.length > 1) throw new Error(`${promql} returned ${result.length} series: ${JSON.stringify(result)}`);
    return result.length ? Number(result[0].value[1]) : NaN;
  }

  /** Scrape targets and their health, as Prometheus reports them. */
  async targets() {
    const res = await fetch(`${this.url}/api/v1/targets`);
    return (await res.json()).data.activeTargets;
  }

  /** Poll `promql` until `accept(value)` or the bound; returns the last value seen. */
  async waitForValue(promql, accept, timeoutMs = scaled(30000)) {
    const end = Date.now() + timeoutMs;
    let last = NaN;
    for (;;) {
      try {
        last = await this.queryValue(promql);
      } catch (err) {
        if (Date.now() >= end) throw err;
      }
      if (accept(last) || Date.now() >= end) return last;
      await sleep(250);
    }
  }

  /** SIGTERM (by pid) and wait; SIGKILL if it lingers. The storage dir is removed. */
  async stop() {
    if (!this.exit) {
      this.proc.kill('SIGTERM');
      const t = setTimeout(() => this.proc.kill('SIGKILL'), scaled(10000));
      await this.exited;
      clearTimeout(t);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Start Prometheus on a free port of 127.0.0.1 scraping `targets` (host:port list) at
 * `metricsPath` every `scrapeInterval`; with `caFile`, over HTTPS verifying the target's
 * certificate against that CA (`serverName` is the name checked). Resolves once its HTTP API
 * answers ready.
 */
export async function startPrometheus({ targets, metricsPath = '/metrics', scrapeInterval = '1s', caFile, serverName }) {
  if (!fs.existsSync(PROMETHEUS_BIN)) throw new Error(`${PROMETHEUS_BIN} not found (Debian package prometheus; scripts/install-deps.sh)`);
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmotlp-prom-'));
  const configPath = path.join(dir, 'prometheus.yml');
  const logPath = path.join(dir, 'prometheus.log');
  fs.writeFileSync(
    configPath,
    [
      'global:',
      `  scrape_interval: ${scrapeInterval}`,
      `  evaluation_interval: ${scrapeInterval}`,
      'scrape_configs:',
      '  - job_name: llmotlp',
      `    scrape_interval: ${scrapeInterval}`,
      `    scrape_timeout: ${scrapeInterval}`,
      `    metrics_path: ${metricsPath}`,
      ...(caFile
        ? ['    scheme: https', '    tls_config:', `      ca_file: ${caFile}`, ...(serverName ? [`      server_name: ${serverName}`] : [])]
        : []),
      '    static_configs:',
      `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const logFd = fs.openSync(logPath, 'a');
  const proc = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${configPath}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      '--storage.tsdb.retention.time=1h',
      '--log.level=warn',
    ],
    { stdio: ['ignore', logFd, logFd] },
  );
  fs.closeSync(logFd);
  const prom = new Prometheus(proc, { port, dir, logPath });
  process.on('exit', () => {
    if (!prom.exit) proc.kill('SIGKILL');
  });
  const up = await waitForPort(port, scaled(20000), () => prom.exit !== null);
  let ready = false;
  const end = Date.now() + scaled(20000);
  while (up && !ready && prom.exit === null && Date.now() < end) {
    try {
      ready = (await fetch(`${prom.url}/-/ready`)).status === 200;
    } catch {
      /* not yet */
    }
    if (!ready) await sleep(100);
  }
  if (!ready) {
    const log = prom.log();
    await prom.stop();
    throw new Error(`prometheus did not become ready (exit ${JSON.stringify(prom.exit)}):\n${log}`);
  }
  return prom;
}
