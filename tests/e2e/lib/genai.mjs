// genai.mjs — helpers for the GenAI cost tests: the `llmotlp pricing` CLI on a test's own DB,
// the seed price list (pricing/prices.csv) read by column name, the cost formula written out
// once more in JavaScript, and the attributes of an arrived span as a plain map.
// The one idea: the test never trusts the service for an expected amount — it prices each span
// itself from the same CSV rows the DB was seeded with, so a wrong formula or a wrong row in
// the processor shows as a difference.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { binaryPath } from './llmotlp.mjs';
import { REPO_ROOT } from './proto.mjs';
import { attrMap } from './compare.mjs';

export const SEED_CSV = path.join(REPO_ROOT, 'pricing', 'prices.csv');

/** Runs `llmotlp pricing --db DB ARGS`; returns {code, stdout, stderr}; asserts success unless told. */
export function pricingCli(db, args, { expectOk = true } = {}) {
  const res = spawnSync(binaryPath(), ['pricing', '--db', db, ...args], { encoding: 'utf8' });
  const out = { code: res.status, stdout: res.stdout ?? '', stderr: res.stderr ?? '' };
  if (expectOk)
    assert.equal(out.code, 0, `llmotlp pricing ${args.join(' ')} failed:\n${out.stdout}\n${out.stderr}`);
  return out;
}

/** A fresh DB at `db` seeded from pricing/prices.csv through the CLI. */
export function seedDb(db) {
  pricingCli(db, ['init']);
  pricingCli(db, ['import', SEED_CSV]);
}

/** RFC 4180 CSV (quoted fields, "" escapes, comment lines starting with #) into objects by header. */
export function readCsv(file) {
  const text = fs.readFileSync(file, 'utf8');
  const rows = [];
  let field = '';
  let row = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  const body = rows.filter((r) => !r[0].startsWith('#'));
  const header = body[0].map((h) => h.trim());
  return body.slice(1).map((r) => Object.fromEntries(header.map((h, i) => [h, (r[i] ?? '').trim()])));
}

const undated = (m) => m.replace(/-\d{4}-?\d{2}-?\d{2}$/, '').replace(/-\d{8}$/, '');

/**
 * The seed's list price in force now for provider/model (the model as a span names it: a dated
 * snapshot matches its undated row and the other way round): {input, cached, output} per 1M.
 */
export function seedPrice(rows, provider, model) {
  const now = Date.now() / 1000;
  const inForce = (r) => {
    if ((r.kind ?? 'price') !== 'price' || r.tenant) return false;
    const to = r.effective_to ? Date.parse(r.effective_to) / 1000 : Infinity;
    const from = r.effective_from ? Date.parse(r.effective_from) / 1000 : -Infinity;
    return from <= now && now < to;
  };
  const match = rows.filter(
    (r) => r.provider === provider && (r.model === model || undated(r.model) === undated(model)) && inForce(r),
  );
  assert.equal(match.length, 1, `seed rows for ${provider} ${model}: ${JSON.stringify(match)}`);
  const r = match[0];
  const num = (v) => (v === '' || v === undefined ? null : Number(v));
  const input = num(r.input_usd_per_mtok);
  return { input, cached: num(r.cached_input_usd_per_mtok) ?? input, output: num(r.output_usd_per_mtok) };
}

/** cost = ((input − cached) × input + cached × cached-price + output × output) / 1e6, in USD. */
export function expectedCost(price, { input, output, cached = 0 }) {
  return ((input - cached) * price.input + cached * price.cached + output * price.output) / 1e6;
}

/** Attributes of an arrived span as {key: value} (values unwrapped; type under .types). */
export function spanAttrs(item) {
  const m = attrMap(item.span.attributes);
  const values = {};
  const types = {};
  for (const [k, v] of Object.entries(m)) {
    values[k] = v.type === 'int_value' ? Number(v.value) : v.value;
    types[k] = v.type;
  }
  const keys = (item.span.attributes ?? []).map((kv) => kv.key);
  assert.equal(new Set(keys).size, keys.length, `span ${item.span.name}: an attribute appears twice`);
  return { values, types };
}

/** Asserts |got − want| is within floating-point noise of a sum of a few products. */
export function assertAmount(got, want, what) {
  assert.ok(typeof got === 'number', `${what}: no cost amount (got ${got})`);
  assert.ok(Math.abs(got - want) <= 1e-12 + Math.abs(want) * 1e-9, `${what}: cost ${got}, expected ${want}`);
}
