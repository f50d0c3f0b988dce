// Keeps README.fr.md in step with README.md: same commands, make targets, components, section
// structure, tables and code blocks, and every command and component of the real binary
// documented in both.
//
// The one idea: a translation changes prose only, so everything that is not prose (code blocks,
// code spans in headings and in the first column of tables, `llmotlp ...` and `make ...` inside
// code) is extracted from both files and compared as data; each difference is reported as
// "which file lacks which item, and where the other file has it".
//
// usage: node readme_parity.mjs --en README.md --fr README.fr.md [--bin build/llmotlp]
//                               [--makefile Makefile]
// exit 0 when in step; 1 with one line per difference on stderr; 2 on a usage error.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { basename } from 'node:path';

const COMPONENT_KINDS = new Set(['receiver', 'processor', 'exporter', 'connector', 'extension']);

// Markdown, read just far enough: fenced and indented code blocks, headings, tables, code spans.
export function parseMarkdown(text) {
  const lines = text.split('\n');
  const doc = { lines, blocks: [], headings: [], tables: [], prose: [] };
  let prevBlank = true;
  let inList = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^(```|~~~)/.test(line)) {
      const fence = line.slice(0, 3);
      let j = i + 1;
      while (j < lines.length && !lines[j].startsWith(fence)) j++;
      doc.blocks.push({ line: i + 1, kind: 'fenced', text: lines.slice(i, j + 1).join('\n') });
      i = j;
      prevBlank = false;
      continue;
    }
    // An indented block starts after a blank line, outside a list item (whose continuation
    // lines are indented too).
    if (prevBlank && !inList && /^ {4}\S/.test(line)) {
      let j = i;
      while (j < lines.length && (/^ {4}/.test(lines[j]) || lines[j].trim() === '')) j++;
      while (j > i && lines[j - 1].trim() === '') j--;
      doc.blocks.push({ line: i + 1, kind: 'indented', text: lines.slice(i, j).join('\n') });
      i = j - 1;
      prevBlank = false;
      continue;
    }
    doc.prose.push({ line: i + 1, text: line });
    if (line.trim() === '') { prevBlank = true; continue; }
    if (/^\s*[-*] /.test(line)) inList = true;
    else if (!/^\s/.test(line)) inList = false;
    prevBlank = false;
    const h = /^(#{1,6}) +(.*?)\s*$/.exec(line);
    if (h) {
      doc.headings.push({ line: i + 1, level: h[1].length, text: h[2], spans: codeSpans(h[2]),
                          slug: slugify(h[2]) });
    }
  }
  // Tables: runs of prose lines that start with '|', the second one a separator.
  const prose = doc.prose;
  for (let k = 0; k < prose.length; k++) {
    if (!prose[k].text.startsWith('|')) continue;
    let m = k;
    while (m < prose.length && prose[m].text.startsWith('|') && prose[m].line === prose[k].line + (m - k)) m++;
    const rows = prose.slice(k, m);
    if (rows.length >= 2 && /^\|[\s:|-]+\|?$/.test(rows[1].text)) {
      doc.tables.push({ line: rows[0].line, header: cells(rows[0].text),
                        rows: rows.slice(2).map((r) => ({ line: r.line, cells: cells(r.text) })) });
    }
    k = m - 1;
  }
  // Code spans of the prose, a paragraph at a time (a span may run over a line break).
  doc.spans = [];
  let para = [];
  const flush = () => {
    if (!para.length) return;
    const joined = para.map((p) => p.text).join('\n');
    for (const s of codeSpans(joined, true)) {
      const before = joined.slice(0, s.index);
      doc.spans.push({ text: s.text, line: para[0].line + (before.match(/\n/g) || []).length });
    }
    para = [];
  };
  for (const p of prose) {
    if (p.text.trim() === '') flush(); else para.push(p);
  }
  flush();
  return doc;
}

function cells(row) {
  const parts = row.replace(/^\|/, '').replace(/\|\s*$/, '').split(/(?<!\\)\|/);
  return parts.map((c) => c.trim());
}

// Code spans of a piece of markdown, whitespace normalized (a span may wrap at a line end).
function codeSpans(text, withIndex = false) {
  const out = [];
  const re = /(`+)([\s\S]*?[^`])\1(?!`)/g;
  let m;
  while ((m = re.exec(text)) !== null) {
    const t = m[2].replace(/\s+/g, ' ').trim();
    out.push(withIndex ? { text: t, index: m.index } : t);
  }
  return out;
}

// GitHub's heading anchors: lowercase, punctuation removed, each space a '-'.
export function slugify(heading) {
  return heading.toLowerCase().replace(/[^\p{L}\p{N}\p{M} _-]/gu, '').replace(/ /g, '-');
}

// `llmotlp <subcommand>` (and `llmotlp pricing <command>`) named in code, with where.
function commandsOf(doc) {
  const found = new Map();
  const add = (text, line) => {
    const re = /(?:^|[^\w/.-])llmotlp((?: +-{1,2}[a-z][a-z-]*)|(?: +[a-z][a-z-]*)(?: +[a-z][a-z-]*)?)/g;
    let m;
    while ((m = re.exec(text)) !== null) {
      const words = m[1].trim().split(/ +/);
      const key = 'llmotlp ' + (words[0] === 'pricing' && words[1] ? words.join(' ') : words[0]);
      if (!found.has(key)) found.set(key, line);
    }
  };
  for (const s of doc.spans) add(s.text, s.line);
  for (const b of doc.blocks) b.text.split('\n').forEach((l, k) => add(l, b.line + k));
  return found;
}

function makeTargetsOf(doc) {
  const found = new Map();
  const add = (text, line) => {
    const re = /(?:^|[^\w-])make ((?:[A-Z_]+=\S+ )*)([a-z][a-z0-9-]*)/g;
    let m;
    while ((m = re.exec(text)) !== null) if (!found.has(m[2])) found.set(m[2], line);
  };
  for (const s of doc.spans) add(s.text, s.line);
  for (const b of doc.blocks) b.text.split('\n').forEach((l, k) => add(l, b.line + k));
  return found;
}

// The command line table: the first table whose first column holds `llmotlp ...` commands.
function commandTable(doc) {
  return doc.tables.find((t) => t.rows.length && t.rows.every((r) => /^`llmotlp\b/.test(r.cells[0])));
}

// The components table: kind in the first column, the type(s) as code in the second.
function componentsOf(doc) {
  const t = doc.tables.find((tb) => tb.rows.length && tb.rows.every((r) => COMPONENT_KINDS.has(r.cells[0])));
  const found = new Map();
  if (!t) return { table: null, found };
  for (const r of t.rows) {
    for (const type of codeSpans(r.cells[1] || '')) found.set(`${r.cells[0]} ${type}`, r.line);
  }
  return { table: t, found };
}

function binaryComponents(bin) {
  const out = execFileSync(bin, ['components'], { encoding: 'utf8' });
  const found = new Set();
  let kind = null;
  for (const line of out.split('\n')) {
    const k = /^(receiver|processor|exporter|connector|extension)s:\s*$/.exec(line);
    if (k) { kind = k[1]; continue; }
    const c = /^\s+([a-z0-9_]+)(\s|$)/.exec(line);
    if (c && kind) found.add(`${kind} ${c[1]}`);
  }
  return found;
}

function binarySubcommands(bin) {
  const out = execFileSync(bin, ['--help'], { encoding: 'utf8' });
  const found = new Set();
  for (const m of out.matchAll(/^\s*(?:usage:\s*)?llmotlp ([a-z][a-z-]*)/gm)) found.add(`llmotlp ${m[1]}`);
  return found;
}

function makefileTargets(path) {
  const text = readFileSync(path, 'utf8');
  return new Set([...text.matchAll(/^([a-zA-Z0-9_-]+)\s*:(?!=)/gm)].map((m) => m[1]));
}

export function compare({ en, fr, enName = 'README.md', frName = 'README.fr.md', bin, makefile }) {
  const errors = [];
  const E = parseMarkdown(en);
  const F = parseMarkdown(fr);
  const files = [[enName, E], [frName, F]];
  const other = (name) => (name === enName ? frName : enName);

  // Each file links to the other.
  if (!en.includes(`(${frName})`)) errors.push(`${enName}: no link to ${frName} (e.g. "Version française : [${frName}](${frName})")`);
  if (!fr.includes(`(${enName})`)) errors.push(`${frName}: no link to ${enName} (e.g. "English: [${enName}](${enName})")`);

  // The same sets of items in both files.
  const sameSet = (what, a, b) => {
    for (const [k, line] of a) if (!b.has(k)) errors.push(`${frName}: missing ${what} ${k} (${enName}:${line} has it)`);
    for (const [k, line] of b) if (!a.has(k)) errors.push(`${enName}: missing ${what} ${k} (${frName}:${line} has it)`);
  };

  // Commands: the Command line table row by row, then every `llmotlp ...` named in code.
  const ct = [commandTable(E), commandTable(F)];
  for (const [i, [name]] of files.entries()) if (!ct[i]) errors.push(`${name}: no Command line table (a table whose first column is \`llmotlp ...\` commands)`);
  if (ct[0] && ct[1]) {
    sameSet('command-line table row', new Map(ct[0].rows.map((r) => [r.cells[0], r.line])),
            new Map(ct[1].rows.map((r) => [r.cells[0], r.line])));
  }
  const cmds = [commandsOf(E), commandsOf(F)];
  sameSet('command', ...cmds.map((m) => new Map([...m].map(([k, l]) => [`\`${k}\``, l]))));

  // make targets named in code, and each one a real target of the Makefile.
  const mk = [makeTargetsOf(E), makeTargetsOf(F)];
  sameSet('make target', ...mk.map((m) => new Map([...m].map(([k, l]) => [`\`make ${k}\``, l]))));
  if (makefile) {
    const targets = makefileTargets(makefile);
    for (const [i, [name]] of files.entries()) {
      for (const [t, line] of mk[i]) if (!targets.has(t)) errors.push(`${name}:${line}: \`make ${t}\` is not a target of ${basename(makefile)}`);
    }
  }

  // Components: the components table of both, and the binary's list in both.
  const comps = [componentsOf(E), componentsOf(F)];
  for (const [i, [name]] of files.entries()) if (!comps[i].table) errors.push(`${name}: no components table (kind | type | ...)`);
  sameSet('component', comps[0].found, comps[1].found);
  if (bin) {
    const real = binaryComponents(bin);
    for (const [i, [name]] of files.entries()) {
      if (!comps[i].table) continue;
      for (const c of real) if (!comps[i].found.has(c)) errors.push(`${name}: component ${c} (listed by \`llmotlp components\`) is not in the components table`);
      for (const [c, line] of comps[i].found) if (!real.has(c)) errors.push(`${name}:${line}: component ${c} is documented but \`llmotlp components\` does not list it`);
    }
    for (const sub of binarySubcommands(bin)) {
      for (const [i, [name]] of files.entries()) if (!cmds[i].has(sub)) errors.push(`${name}: command \`${sub}\` (in \`llmotlp --help\`) is not documented`);
    }
  }

  // Section structure: the same heading levels in the same order, the same code in headings.
  const count = (d, lv) => d.headings.filter((h) => h.level === lv).length;
  for (let lv = 1; lv <= 6; lv++) {
    if (count(E, lv) !== count(F, lv)) errors.push(`heading count differs at level ${lv} ('${'#'.repeat(lv)}'): ${enName} has ${count(E, lv)}, ${frName} has ${count(F, lv)}`);
  }
  // Headings are paired by level and by the first code spans of their section's body (which a
  // translation keeps), so a section added on one side is named even among headings of the same
  // level; then paired headings must hold the same code.
  const sig = (d) => d.headings.map((h, k) => {
    const end = k + 1 < d.headings.length ? d.headings[k + 1].line : Infinity;
    const body = d.spans.filter((sp) => sp.line > h.line && sp.line < end).slice(0, 3).map((sp) => sp.text);
    return `${h.level}|${body.join('|')}`;
  });
  const [sa, sb] = [sig(E), sig(F)];
  const lcs = Array.from({ length: sa.length + 1 }, () => new Array(sb.length + 1).fill(0));
  for (let x = sa.length - 1; x >= 0; x--) {
    for (let y = sb.length - 1; y >= 0; y--) {
      lcs[x][y] = sa[x] === sb[y] ? lcs[x + 1][y + 1] + 1 : Math.max(lcs[x + 1][y], lcs[x][y + 1]);
    }
  }
  const show = (h) => `'${'#'.repeat(h.level)} ${h.text}'`;
  for (let x = 0, y = 0; x < sa.length || y < sb.length;) {
    if (x < sa.length && y < sb.length && sa[x] === sb[y]) {
      const a = E.headings[x]; const b = F.headings[y];
      if (a.spans.join('|') !== b.spans.join('|')) errors.push(`heading code differs: ${enName}:${a.line} [${a.spans.join(', ')}] vs ${frName}:${b.line} [${b.spans.join(', ')}]`);
      x++; y++;
    } else if (y >= sb.length || (x < sa.length && lcs[x + 1][y] >= lcs[x][y + 1])) {
      errors.push(`${frName}: missing section ${show(E.headings[x])} (${enName}:${E.headings[x].line}), or its level or first code differs`);
      x++;
    } else {
      errors.push(`${enName}: missing section ${show(F.headings[y])} (${frName}:${F.headings[y].line}), or its level or first code differs`);
      y++;
    }
  }
  // Internal links point at a heading of the same file.
  for (const [name, d] of files) {
    const slugs = new Set(d.headings.map((h) => h.slug));
    d.prose.forEach((p) => {
      for (const m of p.text.matchAll(/\]\(#([^)]+)\)/g)) if (!slugs.has(m[1])) errors.push(`${name}:${p.line}: link to #${m[1]}, which is no heading of ${name}`);
    });
  }

  // Code spans of the prose: a translation keeps every one, so a paragraph added to one file
  // only shows up here even when it names no command or component.
  const spanCounts = (d) => {
    const m = new Map();
    for (const s of d.spans) { const e = m.get(s.text) || { n: 0, line: s.line }; e.n++; m.set(s.text, e); }
    return m;
  };
  const sc = [spanCounts(E), spanCounts(F)];
  const spanErrors = [];
  for (const [i, [name]] of files.entries()) {
    const o = sc[1 - i];
    for (const [t, e] of sc[i]) {
      const n = o.get(t)?.n || 0;
      if (n < e.n) spanErrors.push(`${other(name)}: code \`${t}\` appears ${n} time(s), ${e.n} in ${name} (first at ${name}:${e.line})`);
    }
  }
  const MAX_SPAN_ERRORS = 25;
  errors.push(...spanErrors.slice(0, MAX_SPAN_ERRORS));
  if (spanErrors.length > MAX_SPAN_ERRORS) errors.push(`... and ${spanErrors.length - MAX_SPAN_ERRORS} more code span differences`);

  // Code blocks: as many, each byte for byte the same.
  if (E.blocks.length !== F.blocks.length) errors.push(`code block count differs: ${enName} has ${E.blocks.length}, ${frName} has ${F.blocks.length}`);
  const nb = Math.min(E.blocks.length, F.blocks.length);
  for (let k = 0; k < nb; k++) {
    const a = E.blocks[k]; const b = F.blocks[k];
    if (a.text === b.text) continue;
    const al = a.text.split('\n'); const bl = b.text.split('\n');
    let d = 0;
    while (d < al.length && al[d] === bl[d]) d++;
    errors.push(`code block ${k + 1} differs: ${enName}:${a.line + d} '${al[d] ?? '(end)'}' vs ${frName}:${b.line + d} '${bl[d] ?? '(end)'}'`);
    if (al.length !== bl.length || E.blocks.length !== F.blocks.length) break; // a shift: the rest would repeat it
  }

  // Tables: as many, each with the same shape and the same code in its first column.
  if (E.tables.length !== F.tables.length) errors.push(`table count differs: ${enName} has ${E.tables.length}, ${frName} has ${F.tables.length}`);
  for (let k = 0; k < Math.min(E.tables.length, F.tables.length); k++) {
    const a = E.tables[k]; const b = F.tables[k];
    if (a.header.length !== b.header.length) errors.push(`table ${k + 1} column count differs: ${enName}:${a.line} has ${a.header.length}, ${frName}:${b.line} has ${b.header.length}`);
    if (a.rows.length !== b.rows.length) errors.push(`table ${k + 1} row count differs: ${enName}:${a.line} has ${a.rows.length}, ${frName}:${b.line} has ${b.rows.length}`);
    for (let r = 0; r < Math.min(a.rows.length, b.rows.length); r++) {
      const x = codeSpans(a.rows[r].cells[0] || '').join(' '); const y = codeSpans(b.rows[r].cells[0] || '').join(' ');
      if (x !== y) { errors.push(`table ${k + 1} row ${r + 1} first column differs: ${enName}:${a.rows[r].line} '${x}' vs ${frName}:${b.rows[r].line} '${y}'`); break; }
    }
  }
  return errors;
}

function main(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!/^--(en|fr|bin|makefile)$/.test(argv[i]) || argv[i + 1] === undefined) {
      process.stderr.write('usage: readme_parity.mjs --en README.md --fr README.fr.md [--bin llmotlp] [--makefile Makefile]\n');
      return 2;
    }
    args[argv[i].slice(2)] = argv[i + 1];
  }
  if (!args.en || !args.fr) { process.stderr.write('readme_parity: --en and --fr are required\n'); return 2; }
  const errors = compare({ en: readFileSync(args.en, 'utf8'), fr: readFileSync(args.fr, 'utf8'),
                           enName: basename(args.en), frName: basename(args.fr),
                           bin: args.bin, makefile: args.makefile });
  if (errors.length) {
    process.stderr.write(`${basename(args.fr)} is not in step with ${basename(args.en)} (${errors.length}):\n`);
    for (const e of errors) process.stderr.write(`  ${e}\n`);
    return 1;
  }
  process.stdout.write(`${basename(args.en)} and ${basename(args.fr)} are in step\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  process.exitCode = main(process.argv.slice(2));
}
