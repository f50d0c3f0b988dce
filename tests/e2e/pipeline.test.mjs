// pipeline.test.mjs — the happy path: the OpenTelemetry JS SDK -> llmotlp -> sink, for
// traces, metrics and logs. The one idea: the SDK's in-memory copy of what it produced is
// the truth; every span, log record and metric point must reach the sink exactly once and
// equal it field by field, and a few values are also checked by hand so that the truth
// itself is known to carry what the test meant to send.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withStack } from './lib/stack.mjs';
import { createSdk, shutdownSdk, emitWorkload, emitMetrics, RESOURCE_ATTRIBUTES } from './lib/sdk.mjs';
import {
  expectedSpans,
  expectedLogRecords,
  expectedMetricPoints,
  assertSpansMatch,
  assertLogsMatch,
  assertMetricPointsMatch,
  attrMap,
} from './lib/compare.mjs';
import { hex, scaled } from './lib/util.mjs';

function numberOf(point) {
  return Number(point[point.value]);
}

async function runPipeline(config) {
  await withStack({ config }, async ({ sink, llm }) => {
    const sdk = createSdk({ url: llm.url, gzipTraces: true });
    const sent = emitWorkload(sdk, { traces: 10, spansPerTrace: 20, logsPerTrace: 3, tag: 'pipe' });
    const metricValues = emitMetrics(sdk, { tag: 'pipe' });
    assert.deepEqual(await shutdownSdk(sdk), [], 'llmotlp refused some SDK exports');

    const wantSpans = expectedSpans(sdk.sent.spans);
    const wantLogs = expectedLogRecords(sdk.sent.logs);
    const wantPoints = expectedMetricPoints(sdk.sent.metrics);
    assert.equal(wantSpans.length, 200);
    assert.equal(sent.spans, 200);
    assert.equal(wantLogs.length, sent.logs);

    await sink.waitFor(
      (s) =>
        s.spans().length >= wantSpans.length &&
        s.logRecords().length >= wantLogs.length &&
        s.metricPoints().length >= wantPoints.length,
      scaled(20000),
    );
    // A little longer, so duplicates that arrive late are seen too.
    await new Promise((r) => setTimeout(r, scaled(500)));

    assertSpansMatch(sink.spans(), wantSpans);
    assertLogsMatch(sink.logRecords(), wantLogs);
    assertMetricPointsMatch(sink.metricPoints(), wantPoints);

    // --- Hand checks on the delivered data (independent of the SDK's serializer). ---
    const spans = sink.spans();
    const res = attrMap(spans[0].resource.attributes);
    assert.deepEqual(res['service.name'], { type: 'string_value', value: 'llm-gateway' });
    assert.deepEqual(res['tenant.id'], { type: 'string_value', value: RESOURCE_ATTRIBUTES['tenant.id'] });
    assert.deepEqual(res['host.cpu.count'], { type: 'int_value', value: '2' });
    assert.deepEqual(res['tenant.region.ids'].value.map((v) => v.value), ['eu-west-1', 'eu-central-1']);

    const byId = new Map(spans.map((s) => [hex(s.span.span_id), s.span]));
    // A streaming chat span without an error (error spans also carry an exception event); the
    // sink's order is not the sender's once the batch processor re-batches, so select by content.
    const client = spans.find((s) => s.span.name.startsWith('chat ') &&
      attrMap(s.span.attributes)['gen_ai.request.stream'].value === true &&
      !(s.span.events ?? []).some((e) => e.name === 'exception')).span;
    const a = attrMap(client.attributes);
    assert.equal(a['gen_ai.usage.input_tokens'].type, 'int_value');
    assert.equal(a['gen_ai.request.temperature'].type, 'double_value');
    assert.equal(a['gen_ai.request.stream'].type, 'bool_value');
    assert.equal(a['gen_ai.response.finish_reasons'].type, 'array_value');
    assert.deepEqual(a['llm.token_ids.sample'].value.map((v) => [v.type, v.value]), [
      ['int_value', '1'],
      ['int_value', '29871'],
      ['int_value', '13'],
      ['int_value', '1099511627776'],
    ]);
    assert.equal(a['llm.balance.delta'].value, '-42');
    assert.equal(a['llm.prompt.preview'].value, 'Summarize: héllo wörld 世界 🚀 "quoted" \\ backslash');
    assert.equal(client.kind, 3, 'CLIENT');
    assert.deepEqual(
      (client.events ?? []).map((e) => e.name),
      ['gen_ai.content.prompt', 'gen_ai.choice'],
    );
    // Parent/child: the CLIENT span's parent is the SERVER root of the same trace.
    const parent = byId.get(hex(client.parent_span_id));
    assert.ok(parent, 'parent span delivered');
    assert.equal(parent.kind, 2, 'SERVER');
    assert.equal(hex(parent.trace_id), hex(client.trace_id));
    // Links: every root after the first links to the previous trace's root.
    const roots = spans.filter((s) => s.span.kind === 2).map((s) => s.span);
    assert.equal(roots.length, 10);
    const linked = roots.filter((r) => (r.links ?? []).length === 1);
    assert.equal(linked.length, 9);
    for (const r of linked) {
      const target = byId.get(hex(r.links[0].span_id));
      assert.ok(target && target.kind === 2 && hex(target.trace_id) === hex(r.links[0].trace_id));
    }
    // Errors keep their status and message.
    const errors = spans.filter((s) => s.span.status?.code === 2);
    assert.equal(errors.length, 20);
    assert.match(errors[0].span.status.message, /^rate limited by upstream \(pipe\/\d+\/\d+\)$/);

    // Logs carry the context of the span they were emitted in.
    const logs = sink.logRecords();
    const withSpan = logs.filter((l) => l.record.span_id?.length);
    assert.equal(withSpan.length, sent.logs);
    for (const l of withSpan) {
      const s = byId.get(hex(l.record.span_id));
      assert.ok(s, `log's span ${hex(l.record.span_id)} was delivered`);
      assert.equal(hex(l.record.trace_id), hex(s.trace_id));
    }
    const warn = logs.find((l) => l.record.severity_text === 'WARN').record;
    assert.equal(warn.severity_number, 13);
    assert.match(warn.body.string_value, /^completion pipe\/\d+\/1 finished model=/);
    const summary = logs.find((l) => l.record.body?.value === 'kvlist_value').record;
    assert.equal(summary.severity_number, 17);
    const body = attrMap(summary.body.kvlist_value.values);
    assert.deepEqual(body.ok, { type: 'bool_value', value: false });
    assert.deepEqual(body.ratio, { type: 'double_value', value: 0.5 });

    // Metric values as recorded by the test itself.
    const points = sink.metricPoints();
    const pAttrs = (p) => Object.fromEntries(Object.entries(attrMap(p.point.attributes)).map(([k, v]) => [k, v.value]));
    for (const [key, sum] of Object.entries(metricValues.counters)) {
      const [model, type] = key.split('|');
      const p = points.filter(
        (x) => x.metric.name === 'gen_ai.client.token.usage.total' && pAttrs(x)['gen_ai.request.model'] === model && pAttrs(x)['gen_ai.token.type'] === type,
      );
      assert.equal(p.length, 1, `counter point ${key}`);
      assert.equal(p[0].type, 'sum');
      assert.equal(p[0].metric.sum.is_monotonic, true);
      assert.equal(p[0].metric.sum.aggregation_temporality, 2, 'CUMULATIVE');
      assert.equal(numberOf(p[0].point), sum, `counter ${key}`);
    }
    for (const [model, h] of Object.entries(metricValues.histograms)) {
      const p = points.filter((x) => x.metric.name === 'gen_ai.client.operation.duration' && pAttrs(x)['gen_ai.request.model'] === model);
      assert.equal(p.length, 1, `histogram point ${model}`);
      assert.equal(p[0].type, 'histogram');
      assert.equal(p[0].metric.unit, 's');
      const pt = p[0].point;
      assert.equal(pt.count, String(h.count));
      assert.ok(Math.abs(pt.sum - h.sum) < 1e-9, `histogram sum ${pt.sum} vs ${h.sum}`);
      assert.equal(pt.min, h.min);
      assert.equal(pt.max, h.max);
      assert.deepEqual(pt.explicit_bounds, h.bounds);
      assert.deepEqual(pt.bucket_counts, h.buckets.map(String));
    }
    for (const [model, v] of Object.entries(metricValues.updown)) {
      const p = points.filter((x) => x.metric.name === 'llm.requests.inflight' && pAttrs(x)['gen_ai.request.model'] === model);
      assert.equal(p.length, 1);
      assert.equal(p[0].metric.sum.is_monotonic ?? false, false);
      assert.equal(numberOf(p[0].point), v);
    }
    for (const [model, v] of Object.entries(metricValues.gauges)) {
      const p = points.filter((x) => x.metric.name === 'llm.queue.depth' && pAttrs(x)['gen_ai.request.model'] === model);
      assert.equal(p.length, 1);
      assert.equal(p[0].type, 'gauge');
      assert.equal(numberOf(p[0].point), v);
    }
  });
}

test('pipeline: SDK traces, metrics and logs pass through llmotlp intact and exactly once', async () => {
  await runPipeline({});
});

test('pipeline: the same through the batch processor (re-batched, still intact and once)', async () => {
  await runPipeline({
    processors: ['batch'],
    processorsYaml: '  batch:\n    timeout: 200ms\n    send_batch_size: 64\n    send_batch_max_size: 128\n',
  });
});
