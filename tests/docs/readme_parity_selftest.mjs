// Proves that readme_parity.mjs fails, naming the item and the file, on each kind of drift
// between README.md and README.fr.md (and the binary).
//
// The one idea: every case starts from the real READMEs (which must pass as they are), applies
// one mutation of the kind a maintainer would make (a command, component, section, make target
// or code block added or changed on one side only), and asserts the exact complaint.
//
// usage: node readme_parity_selftest.mjs SOURCE_DIR LLMOTLP_BIN
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, chmodSync, rmSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compare } from './readme_parity.mjs';

const [srcDir, bin] = process.argv.slice(2);
if (!srcDir || !bin) {
  process.stderr.write('usage: readme_parity_selftest.mjs SOURCE_DIR LLMOTLP_BIN\n');
  process.exit(2);
}
const EN = readFileSync(join(srcDir, 'README.md'), 'utf8');
const FR = readFileSync(join(srcDir, 'README.fr.md'), 'utf8');
const makefile = join(srcDir, 'Makefile');
const tmp = mkdtempSync(join(tmpdir(), 'readme-parity-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const run = (over = {}) => compare({ en: EN, fr: FR, bin, makefile, ...over });

// Replaces exactly one occurrence, so a mutation that silently matched nothing fails the case.
function once(text, from, to) {
  const at = text.indexOf(from);
  assert.ok(at >= 0, `mutation anchor not found: ${from}`);
  assert.equal(text.indexOf(from, at + 1), -1, `mutation anchor not unique: ${from}`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

function hasError(errors, ...parts) {
  assert.ok(errors.some((e) => parts.every((p) => e.includes(p))),
            `no error containing ${JSON.stringify(parts)}; got:\n  ${errors.join('\n  ')}`);
}

// A stand-in binary: the real one's answers, with `extra` lines appended to one command's output.
function fakeBin(name, { components = '', help = '' }) {
  const comps = execFileSync(bin, ['components'], { encoding: 'utf8' }) + components;
  const usage = execFileSync(bin, ['--help'], { encoding: 'utf8' }) + help;
  writeFileSync(join(tmp, `${name}.components`), comps);
  writeFileSync(join(tmp, `${name}.help`), usage);
  const path = join(tmp, name);
  writeFileSync(path, `#!/bin/sh\ncase "$1" in\n  components) cat '${path}.components' ;;\n  --help) cat '${path}.help' ;;\n  *) exit 1 ;;\nesac\n`);
  chmodSync(path, 0o755);
  return path;
}

test('the READMEs as they are pass', () => {
  assert.deepEqual(run(), []);
});

test('a command added to the Command line table of README.md only', () => {
  const en = once(EN, '| `llmotlp --version` |',
                  '| `llmotlp replay --config URI [--speed N]` | replays a capture |\n| `llmotlp --version` |');
  const errors = run({ en });
  hasError(errors, 'README.fr.md: missing command-line table row `llmotlp replay --config URI [--speed N]`', 'README.md:');
  hasError(errors, 'README.fr.md: missing command `llmotlp replay`');
});

test('a component row missing from README.fr.md', () => {
  const row = FR.split('\n').find((l) => l.startsWith('| extension | `basicauth` |'));
  const errors = run({ fr: once(FR, `${row}\n`, '') });
  hasError(errors, 'README.fr.md: missing component extension basicauth', 'README.md:');
  hasError(errors, 'README.fr.md: component extension basicauth (listed by `llmotlp components`)');
});

test('a component the binary has and neither README documents', () => {
  const b = fakeBin('kafka', { components: 'exporters:\n  kafka            sends to a Kafka topic\n' });
  const errors = run({ bin: b });
  hasError(errors, 'README.md: component exporter kafka (listed by `llmotlp components`)');
  hasError(errors, 'README.fr.md: component exporter kafka (listed by `llmotlp components`)');
});

test('a subcommand the binary has and neither README documents', () => {
  const b = fakeBin('replay', { help: '       llmotlp replay --config URI   replay a capture\n' });
  const errors = run({ bin: b });
  hasError(errors, 'README.md: command `llmotlp replay` (in `llmotlp --help`) is not documented');
  hasError(errors, 'README.fr.md: command `llmotlp replay` (in `llmotlp --help`) is not documented');
});

test('a make target named in README.md only, and absent from the Makefile', () => {
  const en = once(EN, '## A minimal config', '`make test-cluster` runs the image.\n\n## A minimal config');
  const errors = run({ en });
  hasError(errors, 'README.fr.md: missing make target `make test-cluster`');
  hasError(errors, 'README.md:', '`make test-cluster` is not a target of Makefile');
});

test('a code block changed in README.fr.md', () => {
  const fr = once(FR, '    timeout: 200ms\nexporters:', '    timeout: 300ms\nexporters:');
  const errors = run({ fr });
  hasError(errors, 'code block 3 differs', "'    timeout: 200ms'", "'    timeout: 300ms'");
});

test('a code block added to README.md only', () => {
  const en = once(EN, '## A minimal config', '```sh\nmake test-cluster\n```\n\n## A minimal config');
  const errors = run({ en });
  hasError(errors, 'code block count differs: README.md has');
});

test('a section added to README.md only', () => {
  const en = once(EN, '### Queue, retry and shutdown (both exporters)',
                  '### kafka exporter\n\nSends to `topic` on the `brokers`.\n\n### Queue, retry and shutdown (both exporters)');
  const errors = run({ en });
  hasError(errors, 'heading count differs at level 3');
  hasError(errors, "README.fr.md: missing section '### kafka exporter' (README.md:");
  assert.equal(errors.filter((e) => e.includes('missing section')).length, 1, errors.join('\n'));
  hasError(errors, 'README.fr.md: code `topic` appears 0 time(s), 1 in README.md');
});

test('a section appended at the end of README.md only', () => {
  const errors = run({ en: `${EN}\n## Capture replay\n\nSee \`llmotlp replay\`.\n` });
  hasError(errors, "README.fr.md: missing section '## Capture replay'");
  hasError(errors, 'README.fr.md: missing command `llmotlp replay`');
});

test('a heading whose level differs in README.fr.md', () => {
  const fr = once(FR, '### Extension health_check', '#### Extension health_check');
  const errors = run({ fr });
  hasError(errors, "heading count differs at level 3 ('###'): README.md has");
  hasError(errors, "README.fr.md: missing section '### health_check extension' (README.md:");
  hasError(errors, "README.md: missing section '#### Extension health_check' (README.fr.md:");
});

test('a heading whose code differs', () => {
  const fr = once(FR, '#### File persistante (`sending_queue.storage`)', '#### File persistante (`sending_queue.store`)');
  hasError(run({ fr }), 'heading code differs', '[sending_queue.storage]', '[sending_queue.store]');
});

test('a link to an anchor no heading of the file has', () => {
  const fr = FR.replace('#authentification--extensions-bearertokenauth-et-basicauth', '#authentication-bearertokenauth-and-basicauth-extensions');
  assert.notEqual(fr, FR);
  hasError(run({ fr }), 'README.fr.md:', 'link to #authentication-bearertokenauth-and-basicauth-extensions, which is no heading of README.fr.md');
});

test('a table row missing from README.fr.md', () => {
  const row = FR.split('\n').find((l) => l.startsWith('| `otelcol_process_uptime` |'));
  const errors = run({ fr: once(FR, `${row}\n`, '') });
  hasError(errors, 'row count differs');
  hasError(errors, 'README.fr.md: code `otelcol_process_uptime` appears 0 time(s)');
});

test('the links between the two READMEs', () => {
  const errors = run({ fr: once(FR, 'English: [README.md](README.md)\n', ''), en: once(EN, 'Version française : [README.fr.md](README.fr.md)\n', '') });
  hasError(errors, 'README.fr.md: no link to README.md');
  hasError(errors, 'README.md: no link to README.fr.md');
});

test('the command line fails with exit 1 and names the item', () => {
  const fr = join(tmp, 'README.fr.md');
  const row = FR.split('\n').find((l) => l.startsWith('| `llmotlp featuregate [ID]` |'));
  writeFileSync(fr, once(FR, `${row}\n`, ''));
  const r = spawnSync(process.execPath, [new URL('./readme_parity.mjs', import.meta.url).pathname,
    '--en', join(srcDir, 'README.md'), '--fr', fr, '--bin', bin, '--makefile', makefile], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /README\.fr\.md: missing command-line table row `llmotlp featuregate \[ID\]`/);
});
