#!/usr/bin/env node
/* check-dashboard.mjs — checks the Grafana dashboard llmotlp-llm.json against a real Prometheus.
 *
 * The one idea: every PromQL expression of the dashboard, with Grafana's variables replaced by
 * what Grafana would send for "All", is run through a throwaway Prometheus whose TSDB was
 * backfilled (promtool tsdb create-blocks-from openmetrics) with synthetic series named and
 * labelled exactly as llmotlp's prometheus exporter writes the llm_metrics connector's metrics.
 * A parse error fails the check, and so does an expression that returns nothing, a NaN, or a
 * series lacking a label its legend or its Jaeger link needs — the faults that parse fine and
 * only show as an empty panel.
 *
 * As a module: dashboardExpressions(path, vars) gives [{panel, refId, expr, instant, legend}]
 * with the variables substituted (defaults: All for service/tenant/provider, $__rate_interval
 * 1m, $__range 1h), so an end-to-end test can run them against a Prometheus holding real data.
 * Run directly (node check-dashboard.mjs [dashboard.json]) it does the whole check and exits
 * non-zero on any failure. Needs node >= 18 and the prometheus and promtool binaries (Debian
 * package `prometheus`), or PROMETHEUS / PROMTOOL pointing at them. */

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_DASHBOARD = join(HERE, 'llmotlp-llm.json');

/* What Grafana substitutes when every multi-value variable is on "All" (allValue ".*") and the
 * time range is one hour. */
export const DEFAULT_VARIABLES = Object.freeze({
  service: '.*',
  tenant: '.*',
  provider: '.*',
  datasource: 'prometheus',
  jaeger_url: 'http://localhost:16686',
  __rate_interval: '1m',
  __interval: '1m',
  __interval_ms: '60000',
  __range: '1h',
  __range_s: '3600',
  __range_ms: '3600000',
});

/* The metrics as the prometheus exporter writes them: family → type and attribute labels
 * (every series also has job and instance; histogram buckets have le). */
const SEMCONV_LABELS = ['gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model',
  'gen_ai_response_model', 'server_address', 'server_port'];
export const METRICS = Object.freeze({
  llmproxy_request_duration_seconds: { type: 'histogram', labels: ['provider', 'model'] },
  llmproxy_request_count: { type: 'counter', labels: ['tenant', 'provider', 'status'] },
  llmproxy_tokens_input: { type: 'counter', labels: ['tenant', 'model'] },
  llmproxy_tokens_output: { type: 'counter', labels: ['tenant', 'model'] },
  llmproxy_cost_estimated: { type: 'counter', labels: ['tenant'] },
  llmproxy_provider_availability: { type: 'gauge', labels: ['provider'] },
  llmproxy_ratelimit_remaining: { type: 'gauge', labels: ['tenant'] },
  gen_ai_client_operation_duration_seconds: { type: 'histogram', labels: [...SEMCONV_LABELS, 'error_type'] },
  gen_ai_client_token_usage: { type: 'histogram', labels: [...SEMCONV_LABELS, 'gen_ai_token_type'] },
});
const COMMON_LABELS = ['job', 'instance'];

function sampleNames() {
  const names = new Map();
  for (const [family, m] of Object.entries(METRICS)) {
    if (m.type === 'counter') names.set(`${family}_total`, { family, bucket: false });
    else if (m.type === 'gauge') names.set(family, { family, bucket: false });
    else {
      names.set(`${family}_bucket`, { family, bucket: true });
      names.set(`${family}_sum`, { family, bucket: false });
      names.set(`${family}_count`, { family, bucket: false });
    }
  }
  return names;
}
const SAMPLE_NAMES = sampleNames();

/* Grafana's interpolation of $var, ${var}, ${var:format} and [[var]]; an unknown variable is an
 * error, so a typo in a variable name cannot slip through as literal text. */
export function substituteVariables(text, vars) {
  return text.replace(/\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)/g, (m, a, b, c) => {
    const name = a ?? b ?? c;
    if (!Object.hasOwn(vars, name)) throw new Error(`unknown variable ${m} in: ${text}`);
    return vars[name];
  });
}

function walkPanels(panels, out = []) {
  for (const p of panels ?? []) {
    out.push(p);
    if (p.panels) walkPanels(p.panels, out);
  }
  return out;
}

export function loadDashboard(path = DEFAULT_DASHBOARD) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/* Every query of every panel, variables substituted. */
export function dashboardExpressions(path = DEFAULT_DASHBOARD, vars = {}) {
  const all = { ...DEFAULT_VARIABLES, ...vars };
  const out = [];
  for (const panel of walkPanels(loadDashboard(path).panels)) {
    for (const t of panel.targets ?? []) {
      if (typeof t.expr !== 'string' || t.hide) continue;
      out.push({
        panel: panel.title,
        refId: t.refId,
        expr: substituteVariables(t.expr, all),
        instant: t.instant === true && t.range !== true,
        legend: t.legendFormat ?? '',
      });
    }
  }
  return out;
}

/* The label_values(<selector>, <label>) queries of the dashboard's query variables. */
export function dashboardVariableQueries(path = DEFAULT_DASHBOARD, vars = {}) {
  const all = { ...DEFAULT_VARIABLES, ...vars };
  const out = [];
  for (const v of loadDashboard(path).templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    const m = /^label_values\((.*),\s*(\w+)\)$/.exec(q ?? '');
    if (!m) throw new Error(`variable ${v.name}: not a label_values(<selector>, <label>) query: ${q}`);
    out.push({ variable: v.name, selector: substituteVariables(m[1], all), label: m[2] });
  }
  return out;
}

/* Static check: every metric named exists and every label used in a matcher or a by/without
 * clause belongs to the metrics of the expression. Returns a list of problems. */
export function checkNamesAndLabels(expr) {
  const problems = [];
  const noStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const allowed = new Set(COMMON_LABELS);
  let metrics = 0;
  // Metric names: what is left once matchers and grouping clauses (which hold label names) go.
  const names = noStrings.replace(/\{[^}]*\}/g, ' ').replace(/\b(?:by|without)\s*\([^)]*\)/g, ' ');
  for (const tok of names.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? []) {
    const known = SAMPLE_NAMES.get(tok);
    if (known) {
      metrics++;
      for (const l of METRICS[known.family].labels) allowed.add(l);
      if (known.bucket) allowed.add('le');
    } else if (/^(llmproxy|gen_ai)_/.test(tok)) {
      problems.push(`unknown metric ${tok}`);
    }
  }
  if (metrics === 0) problems.push('names no llmotlp metric');
  const used = new Set();
  for (const sel of noStrings.match(/\{[^}]*\}/g) ?? [])
    for (const m of sel.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) used.add(m[1]);
  for (const m of noStrings.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g))
    for (const l of m[1].split(',').map((s) => s.trim()).filter(Boolean)) used.add(l);
  for (const l of used) if (!allowed.has(l)) problems.push(`label ${l} is on none of its metrics`);
  return problems;
}

/* ---- synthetic data ---------------------------------------------------------------------- */

const DURATION_BOUNDS = [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60];
const SEMCONV_DURATION_BOUNDS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const SEMCONV_TOKEN_BOUNDS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
const STEP_S = 15;

function labelText(labels) {
  return '{' + Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',') + '}';
}

/* The synthetic traffic: per 15 s step, per tenant (index k) and provider. Only anthropic has
 * errors, so the error-ratio fallback for error-free providers is exercised. 160 steps span less
 * than the one-hour $__range, so increase() over it sees every counter from its first sample. */
export const SYNTHETIC = Object.freeze({
  steps: 160,
  job: 'llm-gateway',
  tenants: ['acme', 'globex'],
  pairs: [
    { provider: 'openai', model: 'gpt-4o', server: 'api.openai.com' },
    { provider: 'anthropic', model: 'claude-3-5-sonnet', server: 'api.anthropic.com' },
  ],
  okPerStep: (k) => 3 + k,
  errorsPerStep: (provider) => (provider === 'anthropic' ? 1 : 0),
  inputTokensPerStep: (k) => 900 + 100 * k,
  outputTokensPerStep: (k) => 300 + 50 * k,
  centsPerStep: (k) => 2.5 + k,
});

/* OpenMetrics text with SYNTHETIC.steps scrapes of every metric, 15 s apart, ending at endS
 * (seconds). Every series grows at every step, so no rate, ratio or quantile over it is empty
 * or NaN. */
export function syntheticOpenMetrics(endS) {
  const { steps, pairs, tenants } = SYNTHETIC;
  const res = { job: SYNTHETIC.job, instance: 'gw-1' };
  const times = Array.from({ length: steps }, (_, i) => endS - (steps - 1 - i) * STEP_S);
  const lines = [];
  const ts = (t) => t.toFixed(3);

  const counter = (family, series) => {
    lines.push(`# TYPE ${family} counter`);
    for (const { labels, perStep } of series)
      times.forEach((t, i) => lines.push(`${family}_total${labelText({ ...labels, ...res })} ${perStep * (i + 1)} ${ts(t)}`));
  };
  const gauge = (family, series) => {
    lines.push(`# TYPE ${family} gauge`);
    for (const { labels, at } of series)
      times.forEach((t, i) => lines.push(`${family}${labelText({ ...labels, ...res })} ${at(i)} ${ts(t)}`));
  };
  // observations: values observed at every step
  const histogram = (family, bounds, series) => {
    lines.push(`# TYPE ${family} histogram`);
    for (const { labels, observations } of series) {
      const l = { ...labels, ...res };
      const perStepBuckets = bounds.map((b) => observations.filter((v) => v <= b).length);
      const perStepSum = observations.reduce((a, b) => a + b, 0);
      times.forEach((t, i) => {
        const n = i + 1;
        bounds.forEach((b, j) => lines.push(`${family}_bucket${labelText({ ...l, le: String(b) })} ${perStepBuckets[j] * n} ${ts(t)}`));
        lines.push(`${family}_bucket${labelText({ ...l, le: '+Inf' })} ${observations.length * n} ${ts(t)}`);
        lines.push(`${family}_sum${labelText(l)} ${+(perStepSum * n).toFixed(6)} ${ts(t)}`);
        lines.push(`${family}_count${labelText(l)} ${observations.length * n} ${ts(t)}`);
      });
    }
  };

  histogram('llmproxy_request_duration_seconds', DURATION_BOUNDS,
    pairs.map((p, k) => ({ labels: { provider: p.provider, model: p.model }, observations: [0.3, 0.8 + k, 1.5, 4] })));
  counter('llmproxy_request_count', tenants.flatMap((tenant, k) => pairs.flatMap((p) => [
    { labels: { tenant, provider: p.provider, status: 'ok' }, perStep: SYNTHETIC.okPerStep(k) },
    ...(SYNTHETIC.errorsPerStep(p.provider) ? [{ labels: { tenant, provider: p.provider, status: 'error' }, perStep: SYNTHETIC.errorsPerStep(p.provider) }] : []),
  ])));
  counter('llmproxy_tokens_input', tenants.flatMap((tenant, k) => pairs.map((p) => ({ labels: { tenant, model: p.model }, perStep: SYNTHETIC.inputTokensPerStep(k) }))));
  counter('llmproxy_tokens_output', tenants.flatMap((tenant, k) => pairs.map((p) => ({ labels: { tenant, model: p.model }, perStep: SYNTHETIC.outputTokensPerStep(k) }))));
  counter('llmproxy_cost_estimated', tenants.map((tenant, k) => ({ labels: { tenant }, perStep: SYNTHETIC.centsPerStep(k) })));
  gauge('llmproxy_provider_availability', pairs.map((p) => ({
    labels: { provider: p.provider }, at: (i) => (p.provider === 'anthropic' && i % 40 >= 30 ? 0 : 1),
  })));
  gauge('llmproxy_ratelimit_remaining', tenants.map((tenant, k) => ({ labels: { tenant }, at: (i) => 500 * (k + 1) - (i % 50) * 7 })));

  const semconv = (p) => ({
    gen_ai_operation_name: 'chat', gen_ai_provider_name: p.provider, gen_ai_request_model: p.model,
    gen_ai_response_model: `${p.model}-2024`, server_address: p.server, server_port: '443',
  });
  histogram('gen_ai_client_operation_duration_seconds', SEMCONV_DURATION_BOUNDS, [
    ...pairs.map((p) => ({ labels: semconv(p), observations: [0.3, 1.1, 2.2] })),
    { labels: { ...semconv(pairs[1]), error_type: '429' }, observations: [0.05] },
  ]);
  histogram('gen_ai_client_token_usage', SEMCONV_TOKEN_BOUNDS, pairs.flatMap((p) => [
    { labels: { ...semconv(p), gen_ai_token_type: 'input' }, observations: [300, 1200] },
    { labels: { ...semconv(p), gen_ai_token_type: 'output' }, observations: [80, 400] },
  ]));
  lines.push('# EOF');
  return lines.join('\n') + '\n';
}

/* What the dashboard's business figures must show for the synthetic traffic, keyed by
 * "panel [refId]": [{labels, value}]. The data sit on the 15 s grid from its first step and the
 * queries run at the last sample, so increase() over the hour is the exact sum (Prometheus
 * extrapolates a counter back to zero one step before its first sample). */
export function syntheticExpectations() {
  const { steps, tenants, pairs } = SYNTHETIC;
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  const ks = tenants.map((_, k) => k);
  const okPerStep = sum(ks.map((k) => pairs.length * SYNTHETIC.okPerStep(k)));
  const errPerStep = sum(ks.map(() => sum(pairs.map((p) => SYNTHETIC.errorsPerStep(p.provider)))));
  const byRow = [];
  tenants.forEach((tenant, k) => pairs.forEach((p) => {
    byRow.push({ labels: { job: SYNTHETIC.job, tenant, provider: p.provider, status: 'ok' }, value: steps * SYNTHETIC.okPerStep(k) });
    if (SYNTHETIC.errorsPerStep(p.provider))
      byRow.push({ labels: { job: SYNTHETIC.job, tenant, provider: p.provider, status: 'error' }, value: steps * SYNTHETIC.errorsPerStep(p.provider) });
  }));
  return {
    'Requests [A]': [{ labels: {}, value: steps * (okPerStep + errPerStep) }],
    'Error ratio [A]': [{ labels: {}, value: errPerStep / (okPerStep + errPerStep) }],
    'Estimated cost [A]': [{ labels: {}, value: (steps * sum(ks.map(SYNTHETIC.centsPerStep))) / 100 }],
    'Tokens [A]': [{ labels: {}, value: steps * pairs.length * sum(ks.map(SYNTHETIC.inputTokensPerStep)) }],
    'Tokens [B]': [{ labels: {}, value: steps * pairs.length * sum(ks.map(SYNTHETIC.outputTokensPerStep)) }],
    'Cost per tenant (USD, over the range) [A]': tenants.map((tenant, k) => ({ labels: { tenant }, value: (steps * SYNTHETIC.centsPerStep(k)) / 100 })),
    'Cost rate per tenant (USD/hour) [A]': tenants.map((tenant, k) => ({ labels: { tenant }, value: ((SYNTHETIC.centsPerStep(k) / STEP_S) * 3600) / 100 })),
    'Error ratio per provider [A]': pairs.map((p) => {
      const errors = tenants.length * SYNTHETIC.errorsPerStep(p.provider);
      return { labels: { provider: p.provider }, value: errors / (errors + sum(ks.map(SYNTHETIC.okPerStep))) };
    }),
    'Requests by service, tenant, provider and status [A]': byRow,
  };
}

/* The expected series missing from result or with another value (relative error 1e-9). */
export function compareResult(result, expected) {
  const problems = [];
  for (const want of expected) {
    const got = result.filter((s) => Object.entries(want.labels).every(([k, v]) => s.metric[k] === v));
    if (got.length !== 1) problems.push(`${JSON.stringify(want.labels)}: ${got.length} series`);
    else {
      const v = Number(got[0].value[1]);
      if (!(Math.abs(v - want.value) <= 1e-9 * Math.max(1, Math.abs(want.value))))
        problems.push(`${JSON.stringify(want.labels)}: got ${v}, want ${want.value}`);
    }
  }
  if (result.length !== expected.length) problems.push(`${result.length} series, want ${expected.length}`);
  return problems;
}

/* ---- throwaway Prometheus ---------------------------------------------------------------- */

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/* Starts Prometheus on 127.0.0.1 with no scrape jobs over a TSDB backfilled from
 * openMetricsText (if given). Returns { url, stop() }. */
export async function startThrowawayPrometheus({ openMetricsText } = {}) {
  const prometheus = process.env.PROMETHEUS || 'prometheus';
  const promtool = process.env.PROMTOOL || 'promtool';
  const dir = mkdtempSync(join(tmpdir(), 'llmotlp-dash-'));
  const data = join(dir, 'data');
  const cfg = join(dir, 'prometheus.yml');
  writeFileSync(cfg, 'global:\n  scrape_interval: 15s\nscrape_configs: []\n');
  if (openMetricsText) {
    const input = join(dir, 'synthetic.om');
    writeFileSync(input, openMetricsText);
    const r = spawnSync(promtool, ['tsdb', 'create-blocks-from', 'openmetrics', input, data], { encoding: 'utf8' });
    if (r.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`promtool backfill failed: ${r.error ?? ''}${r.stderr}${r.stdout}`);
    }
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let log = '';
  const child = spawn(prometheus, [
    `--config.file=${cfg}`, `--storage.tsdb.path=${data}`, `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.on('data', (d) => { log = (log + d).slice(-4000); });
  let exited = null;
  const exitPromise = new Promise((res) => child.on('exit', (code, sig) => { exited = code ?? sig; res(); }));
  child.on('error', (e) => { exited = String(e); });
  const stop = async () => {
    if (exited === null) {
      child.kill('SIGTERM');
      await exitPromise;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Readiness: poll /-/ready until it answers 200 or the process dies (bounded, 60 s).
  for (let i = 0; i < 300; i++) {
    if (exited !== null) {
      await stop();
      throw new Error(`prometheus exited (${exited}): ${log}`);
    }
    try {
      const r = await fetch(`${url}/-/ready`);
      if (r.ok) return { url, stop };
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`prometheus not ready at ${url}: ${log}`);
}

export async function promQuery(url, expr, timeS) {
  const body = new URLSearchParams({ query: expr });
  if (timeS !== undefined) body.set('time', String(timeS));
  const r = await fetch(`${url}/api/v1/query`, { method: 'POST', body });
  return r.json();
}

/* ---- the check run directly ------------------------------------------------------------- */

function legendLabels(legend) {
  return [...legend.matchAll(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g)].map((m) => m[1]);
}

/* Fields a panel's data links read (${__data.fields.X}, ${__field.labels.X}). */
function linkFields(panel) {
  const text = JSON.stringify(panel.fieldConfig?.defaults?.links ?? []);
  return [...new Set([...text.matchAll(/__data\.fields\.([a-zA-Z_]\w*)|__field\.labels\.([a-zA-Z_]\w*)/g)].map((m) => m[1] ?? m[2]))];
}

function structuralChecks(d, check) {
  check('dashboard uid/title/schemaVersion', d.uid === 'llmotlp-llm' && d.title === 'llmotlp — LLM traffic' && d.schemaVersion === 39);
  check('time range last 1h, refresh 30s', d.time?.from === 'now-1h' && d.time?.to === 'now' && d.refresh === '30s');
  const vars = Object.fromEntries((d.templating?.list ?? []).map((v) => [v.name, v]));
  check('datasource variable (type datasource, prometheus)', vars.datasource?.type === 'datasource' && vars.datasource?.query === 'prometheus');
  for (const n of ['tenant', 'provider'])
    check(`${n} variable is a label_values query with All/multi`,
      vars[n]?.type === 'query' && /^label_values\(/.test(vars[n]?.query) && vars[n]?.includeAll && vars[n]?.multi && vars[n]?.allValue === '.*');
  const panels = walkPanels(d.panels);
  const ids = panels.map((p) => p.id);
  check('panel ids are unique', new Set(ids).size === ids.length);
  for (const p of panels.filter((p) => p.type !== 'row')) {
    check(`${p.title}: uses the $datasource variable`, p.datasource?.uid === '${datasource}' && (p.targets ?? []).every((t) => t.datasource?.uid === '${datasource}'));
    const refs = (p.targets ?? []).map((t) => t.refId);
    check(`${p.title}: refIds unique`, new Set(refs).size === refs.length);
  }
  // The Jaeger links: after Grafana's interpolation the URL must be a Jaeger search whose tags
  // parameter is JSON naming the row's values.
  const tables = panels.filter((p) => p.type === 'table');
  check('a table panel links to Jaeger', tables.some((p) => (p.fieldConfig?.defaults?.links ?? []).some((l) => /jaeger_url/.test(l.url))));
  for (const p of tables) {
    for (const link of p.fieldConfig?.defaults?.links ?? []) {
      if (link.internal) {
        check(`${p.title}: "${link.title}" targets the jaeger data source`, link.internal.datasourceUid === 'jaeger' && link.internal.query?.queryType === 'search');
        continue;
      }
      const sample = { job: 'llm-gateway', tenant: 'acme corp', provider: 'openai', model: 'gpt-4o', status: 'error' };
      let ok = false;
      let why = '';
      try {
        const href = link.url
          .replace(/\$\{__data\.fields\.(\w+)(:percentencode)?\}/g, (_, f, enc) => (enc ? encodeURIComponent(sample[f]) : sample[f]))
          .replace(/\$\{__from\}/g, '1700000000000').replace(/\$\{__to\}/g, '1700003600000');
        const u = new URL(substituteVariables(href, DEFAULT_VARIABLES));
        const tags = JSON.parse(u.searchParams.get('tags'));
        ok = u.pathname === '/search' && u.searchParams.get('service') === sample.job &&
          tags['gen_ai.provider.name'] === sample.provider &&
          Object.values(tags).every((v) => typeof v === 'string' && v !== '') &&
          u.searchParams.get('start') === '1700000000000000';
        why = u.href;
      } catch (e) {
        why = e.message;
      }
      check(`${p.title}: "${link.title}" is a Jaeger search with JSON tags`, ok, why);
    }
    for (const l of p.links ?? []) check(`${p.title}: panel link "${l.title}" goes to Jaeger`, /^\$\{jaeger_url\}\/search\?service=/.test(l.url));
  }
}

async function main() {
  const path = resolve(process.argv[2] ?? DEFAULT_DASHBOARD);
  let passed = 0;
  let failed = 0;
  const check = (name, ok, detail = '') => {
    if (ok) passed++;
    else {
      failed++;
      console.log(`FAIL ${name}${detail ? `\n     ${detail}` : ''}`);
    }
  };

  const dashboard = loadDashboard(path);
  structuralChecks(dashboard, check);

  const promtool = process.env.PROMTOOL || 'promtool';
  const promCfg = join(HERE, '..', 'prometheus', 'prometheus.yml');
  const pc = spawnSync(promtool, ['check', 'config', promCfg], { encoding: 'utf8' });
  check('promtool check config deploy/prometheus/prometheus.yml', pc.status === 0, `${pc.error ?? ''}${pc.stdout}${pc.stderr}`);

  const exprs = dashboardExpressions(path);
  for (const e of exprs) {
    const problems = checkNamesAndLabels(e.expr);
    check(`${e.panel} [${e.refId}]: names and labels`, problems.length === 0, `${problems.join('; ')}\n     ${e.expr}`);
  }

  const endS = Math.floor(Date.now() / 1000) - 60;
  const prom = await startThrowawayPrometheus({ openMetricsText: syntheticOpenMetrics(endS) });
  try {
    const panelsByTitle = new Map(walkPanels(dashboard.panels).map((p) => [p.title, p]));
    const expectations = syntheticExpectations();
    const seen = new Set();
    for (const e of exprs) {
      const name = `${e.panel} [${e.refId}]`;
      const r = await promQuery(prom.url, e.expr, endS);
      if (r.status !== 'success') {
        check(`${name}: valid PromQL`, false, `${r.errorType}: ${r.error}\n     ${e.expr}`);
        continue;
      }
      check(`${name}: valid PromQL`, true);
      const result = r.data.resultType === 'scalar' ? [{ metric: {}, value: r.data.result }] : r.data.result;
      check(`${name}: returns data`, r.data.resultType !== 'matrix' && result.length > 0, e.expr);
      const bad = result.filter((s) => !Number.isFinite(Number(s.value?.[1])));
      check(`${name}: every value is finite`, bad.length === 0, JSON.stringify(bad.slice(0, 3)));
      const need = [...legendLabels(e.legend), ...linkFields(panelsByTitle.get(e.panel) ?? {})];
      const missing = need.filter((l) => result.some((s) => !s.metric[l]));
      check(`${name}: series carry the labels legend and links use`, missing.length === 0, `missing ${missing.join(', ')}`);
      if (expectations[name]) {
        seen.add(name);
        const problems = compareResult(result, expectations[name]);
        check(`${name}: figures match the synthetic traffic`, problems.length === 0, problems.join('; '));
      }
    }
    for (const name of Object.keys(expectations)) check(`${name}: panel query exists`, seen.has(name));
    for (const v of dashboardVariableQueries(path)) {
      const q = new URLSearchParams({ 'match[]': v.selector, start: String(endS - 3600), end: String(endS) });
      const r = await (await fetch(`${prom.url}/api/v1/label/${v.label}/values?${q}`)).json();
      check(`variable ${v.variable}: label_values(${v.selector}, ${v.label}) has values`,
        r.status === 'success' && r.data.length > 0, JSON.stringify(r).slice(0, 300));
    }
  } finally {
    await prom.stop();
  }
  console.log(`${exprs.length} expressions from ${path}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e) => {
    console.error(e.stack || String(e));
    process.exitCode = 2;
  });
}
