// resourcedetection.test.mjs — the `resourcedetection` processor seen from outside: the official
// JS SDK sends spans over OTLP/gRPC through `resourcedetection: {detectors: [env, system]}`,
// with OTEL_RESOURCE_ATTRIBUTES set in llmotlp's own environment, to a real OTLP sink.
// The one idea: what the sink receives is compared with what this test reads of the host itself
// (os.hostname()) and with the variables it gave the process, so the merge rules (override true
// replaces, override false keeps the SDK's service.name) are checked end to end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { withStack } from './lib/stack.mjs';
import { createSdk, RESOURCE_ATTRIBUTES } from './lib/sdk.mjs';
import { scaled } from './lib/util.mjs';

const ENV = { OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-env,deployment.region=eu%2Dwest,team=llm+platform' };

function config(override) {
  return {
    env: ENV,
    processorsYaml: [
      '  resourcedetection:',
      '    detectors: [env, system]',
      `    override: ${override}`,
      '    system:',
      '      hostname_sources: [os]',
      '',
    ].join('\n'),
    processors: ['resourcedetection'],
  };
}

function resourceOf(item) {
  const out = {};
  for (const kv of item.resource?.attributes ?? []) {
    const v = kv.value ?? {};
    out[kv.key] = v.string_value ?? v.int_value ?? v.bool_value ?? v.double_value ?? v.array_value;
  }
  return out;
}

async function sendOne(llm, sink, name) {
  const sdk = createSdk({ url: llm.url, signals: ['traces'] });
  try {
    sdk.tracerProvider.getTracer('e2e').startSpan(name).end();
    await sdk.tracerProvider.forceFlush();
    const got = await sink.waitFor((s) => s.spans().find((a) => a.span.name === name), scaled(15000));
    assert.ok(got, 'span never arrived');
    return got;
  } finally {
    await sdk.tracerProvider.shutdown();
  }
}

test('resourcedetection: env and system attributes arrive; override true replaces service.name', async () => {
  await withStack({ config: config(true) }, async ({ sink, llm }) => {
    const got = await sendOne(llm, sink, 'override-true');
    const r = resourceOf(got);
    assert.equal(r['host.name'], os.hostname());
    assert.equal(r['os.type'], 'linux');
    assert.equal(r['deployment.region'], 'eu-west', 'percent-decoded');
    assert.equal(r.team, 'llm platform', "'+' is a space");
    assert.equal(r['service.name'], 'from-env', 'override: true lets the detected value win');
    assert.equal(r['tenant.id'], RESOURCE_ATTRIBUTES['tenant.id'], 'the SDK attributes stay');
    const rs = sink.accepted('traces').flatMap((c) => c.request.resource_spans ?? []);
    assert.ok(rs.some((x) => x.schema_url === 'https://opentelemetry.io/schemas/1.6.1' ||
                             (x.schema_url ?? '') !== ''), 'a schema URL is set');
  });
});

test('resourcedetection: override false keeps the SDK service.name and adds the rest', async () => {
  await withStack({ config: config(false) }, async ({ sink, llm }) => {
    const got = await sendOne(llm, sink, 'override-false');
    const r = resourceOf(got);
    assert.equal(r['service.name'], RESOURCE_ATTRIBUTES['service.name']);
    assert.equal(r['host.name'], os.hostname());
    assert.equal(r['os.type'], 'linux');
    assert.equal(r.team, 'llm platform');
  });
});
