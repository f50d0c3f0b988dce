// own-telemetry.test.mjs — llmotlp's own telemetry as the Collector's service.telemetry
// configures it: periodic OTLP readers of its own metrics (the OpenTelemetry configuration
// schema's `periodic` reader, over OTLP/HTTP to a node:http server decoding with the official
// protos, and over gRPC to a @grpc/grpc-js server), JSON log lines, and health_check's
// check_collector_pipeline (which does nothing in the Collector, and nothing here).
// The one idea: the metrics are checked against traffic the test itself sent, and the
// decisive export is the last one, which a periodic reader sends at shutdown: after the
// pipelines drained, so its counts are final and the assertion waits on no timer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startLlmotlp, stopLlmotlp } from './lib/llmotlp.mjs';
import { Sink } from './lib/sink.mjs';
import { HttpSink } from './lib/httpsink.mjs';
import { httpRequest } from './lib/httpclient.mjs';
import { rawClient, rawCall, status } from './lib/rawclient.mjs';
import { traceRequest } from './lib/requests.mjs';
import { exportPath } from './lib/proto.mjs';
import { scaled, sleep } from './lib/util.mjs';

/** Every data point of the metrics requests a sink recorded: [{resource, scope, metric, type, point}]. */
function points(requests) {
  const out = [];
  for (const req of requests) {
    for (const rm of req.resource_metrics ?? []) {
      for (const sm of rm.scope_metrics ?? []) {
        for (const metric of sm.metrics ?? []) {
          const type = metric.data;
          for (const point of metric[type]?.data_points ?? []) out.push({ resource: rm.resource, scope: sm.scope, metric, type, point });
        }
      }
    }
  }
  return out;
}

function attrs(list) {
  const o = {};
  for (const kv of list ?? []) o[kv.key] = kv.value?.[kv.value.value] ?? kv.value?.string_value;
  return o;
}

/** The value of `name` with attributes including `match` in one request; undefined if absent. */
function valueIn(request, name, match = {}) {
  for (const p of points([request])) {
    if (p.metric.name !== name) continue;
    const a = attrs(p.point.attributes);
    if (Object.entries(match).every(([k, v]) => a[k] === v)) return Number(p.point.as_int ?? p.point.as_double ?? p.point.count);
  }
  return undefined;
}

async function sendSpans(llm, n, tag) {
  const client = rawClient(llm.endpoint);
  try {
    const r = traceRequest({ n, tag });
    assert.equal((await rawCall(client, exportPath('traces'), r.bytes)).code, status.OK);
  } finally {
    client.close();
  }
}

test('periodic reader over OTLP/HTTP: own metrics arrive with their names, values, resource and headers', async () => {
  const downstream = await new Sink().start();
  const otel = await new HttpSink().start();
  let llm;
  try {
    llm = await startLlmotlp({
      exporterEndpoint: downstream.endpoint,
      telemetryYaml: [
        'logs: {level: info}',
        'resource:',
        '  deployment.environment: e2e',
        'metrics:',
        '  readers:',
        '    - periodic:',
        '        interval: 300',
        '        exporter:',
        '          otlp:',
        '            protocol: http/protobuf',
        // no path: the reader adds /v1/metrics, as the SDK does
        `            endpoint: ${otel.url}`,
        '            headers: [{name: x-api-key, value: "s3cret"}]',
      ],
    });
    // Several periodic exports while running (300 ms apart), each a full cumulative request.
    const t0 = Date.now();
    while (otel.accepted('metrics').length < 2 && Date.now() - t0 < scaled(10000)) await sleep(50);
    assert.ok(otel.accepted('metrics').length >= 2, `periodic exports: ${otel.calls.length}`);

    await sendSpans(llm, 5, 'own-http');
    await downstream.waitFor((s) => s.spans().length >= 5, scaled(10000));

    const before = otel.accepted('metrics').length;
    const res = await stopLlmotlp(llm);
    assert.deepEqual(res, { code: 0, signal: null });
    const calls = otel.accepted('metrics');
    assert.ok(calls.length > before, 'one more export at shutdown');
    const last = calls[calls.length - 1];
    assert.equal(last.url, '/v1/metrics');
    assert.equal(last.contentType, 'application/x-protobuf');
    assert.equal(last.headers['x-api-key'], 's3cret');

    const req = last.request;
    assert.equal(req.resource_metrics.length, 1);
    const res0 = attrs(req.resource_metrics[0].resource.attributes);
    assert.equal(res0['service.name'], 'llmotlp');
    assert.match(res0['service.version'], /^\d+\.\d+\.\d+/);
    assert.match(res0['service.instance.id'], /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(res0['deployment.environment'], 'e2e');

    // The counts of the traffic this test sent, final after the drain.
    assert.equal(valueIn(req, 'otelcol_receiver_accepted_spans', { receiver: 'otlp', transport: 'grpc' }), 5);
    assert.equal(valueIn(req, 'otelcol_exporter_sent_spans', { exporter: 'otlp' }), 5);
    assert.equal(valueIn(req, 'otelcol_exporter_send_failed_spans', { exporter: 'otlp' }), 0);

    // Counters are monotonic cumulative sums starting at the process start; gauges are gauges.
    const sent = points([req]).find((p) => p.metric.name === 'otelcol_exporter_sent_spans');
    assert.equal(sent.type, 'sum');
    assert.equal(sent.metric.sum.is_monotonic, true);
    assert.ok(['AGGREGATION_TEMPORALITY_CUMULATIVE', 2].includes(sent.metric.sum.aggregation_temporality));
    const start = BigInt(sent.point.start_time_unix_nano);
    const at = BigInt(sent.point.time_unix_nano);
    assert.ok(start > 0n && start < at, `start ${start} before time ${at}`);
    // the same start in every export: cumulative from one origin
    const first = points([calls[0].request]).find((p) => p.metric.name === 'otelcol_process_uptime');
    const lastUp = points([req]).find((p) => p.metric.name === 'otelcol_process_uptime');
    assert.equal(String(first.point.start_time_unix_nano), String(lastUp.point.start_time_unix_nano));
    const rss = points([req]).find((p) => p.metric.name === 'otelcol_process_memory_rss');
    assert.equal(rss.type, 'gauge');
    assert.ok(Number(rss.point.as_int) > 0);
  } finally {
    if (llm?.alive) await stopLlmotlp(llm);
    await otel.stop();
    await downstream.stop();
  }
});

test('periodic reader over gRPC (otlp_grpc): own metrics reach a @grpc/grpc-js server', async () => {
  const downstream = await new Sink().start();
  const otel = await new Sink().start();
  let llm;
  try {
    llm = await startLlmotlp({
      exporterEndpoint: downstream.endpoint,
      telemetryYaml: [
        'logs: {level: info}',
        'metrics:',
        '  readers:',
        '    - periodic:',
        '        interval: 60000',
        '        exporter:',
        '          otlp_grpc:',
        `            endpoint: http://${otel.endpoint}`,
        '            headers_list: "x-team=llm"',
      ],
    });
    await sendSpans(llm, 3, 'own-grpc');
    await downstream.waitFor((s) => s.spans().length >= 3, scaled(10000));
    // the interval is a minute: what arrives is the export at shutdown
    const res = await stopLlmotlp(llm);
    assert.deepEqual(res, { code: 0, signal: null });
    const calls = otel.accepted('metrics');
    assert.equal(calls.length, 1, 'exactly the export at shutdown');
    assert.equal(calls[0].metadata['x-team'], 'llm');
    assert.equal(valueIn(calls[0].request, 'otelcol_receiver_accepted_spans', { receiver: 'otlp', transport: 'grpc' }), 3);
    assert.equal(valueIn(calls[0].request, 'otelcol_exporter_sent_spans', { exporter: 'otlp' }), 3);
  } finally {
    if (llm?.alive) await stopLlmotlp(llm);
    await otel.stop();
    await downstream.stop();
  }
});

test('logs.encoding json: every line is one JSON object with the Collector\'s keys', async () => {
  const downstream = await new Sink().start();
  let llm;
  try {
    llm = await startLlmotlp({
      exporterEndpoint: downstream.endpoint,
      telemetryYaml: [
        'logs:',
        '  level: debug',
        '  encoding: json',
        '  initial_fields: {team: "llm \\"core\\"", shard: 7}',
        'metrics: {level: none}',
      ],
    });
    await sendSpans(llm, 2, 'json-logs');
    await downstream.waitFor((s) => s.spans().length >= 2, scaled(10000));
    const res = await stopLlmotlp(llm);
    assert.deepEqual(res, { code: 0, signal: null });
    const lines = fs.readFileSync(llm.logPath, 'utf8').split('\n').filter((l) => l.length);
    assert.ok(lines.length >= 3, `log lines: ${lines.length}`);
    let component = 0;
    for (const line of lines) {
      const o = JSON.parse(line); // throws on any line that is not one JSON object
      assert.ok(['debug', 'info', 'warn', 'error'].includes(o.level), line);
      assert.match(o.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d{4})$/, line);
      assert.equal(typeof o.msg, 'string', line);
      assert.equal(o.team, 'llm "core"', line);
      assert.equal(o.shard, 7, line);
      assert.equal(o.resource['service.name'], 'llmotlp', line);
      assert.deepEqual(Object.keys(o).slice(0, 2), ['level', 'ts'], line);
      if (o['otelcol.component.kind']) {
        component++;
        assert.ok(['receiver', 'processor', 'exporter', 'connector', 'extension'].includes(o['otelcol.component.kind']), line);
        assert.ok(o['otelcol.component.id'], line);
      }
    }
    assert.ok(component > 0, 'some lines come from components and say which');
  } finally {
    if (llm?.alive) await stopLlmotlp(llm);
    await downstream.stop();
  }
});

test('health_check check_collector_pipeline: accepted and warned, and (as in the Collector) no effect during a real outage', async () => {
  const downstream = await new Sink().start();
  let llm;
  try {
    llm = await startLlmotlp({
      exporterEndpoint: downstream.endpoint,
      health: true,
      maxElapsedTime: '500ms',
      healthYaml: ['check_collector_pipeline: {enabled: true, interval: 1s, exporter_failure_threshold: 1}'],
    });
    const log = () => fs.readFileSync(llm.logPath, 'utf8');
    assert.match(log(), /extensions\.health_check\.check_collector_pipeline: accepted but has no effect/);
    // The downstream goes away; exports fail for good past max_elapsed_time.
    await downstream.stop();
    for (let i = 0; i < 3; i++) await sendSpans(llm, 2, `outage-${i}`);
    const end = Date.now() + scaled(15000);
    let failed = 0;
    while (Date.now() < end) {
      const r = await httpRequest(llm.metricsUrl, { method: 'GET' });
      const m = /otelcol_exporter_send_failed_spans\{exporter="otlp"\} (\d+)/.exec(r.body.toString());
      failed = m ? Number(m[1]) : 0;
      if (failed >= 6) break;
      await sleep(100);
    }
    assert.equal(failed, 6, 'the exporter gave up on every span: failures above the threshold');
    const res = await httpRequest(llm.healthUrl + '/', { method: 'GET' });
    assert.equal(res.status, 200, `health during the outage: ${res.status} ${res.body}`);
    assert.equal(JSON.parse(res.body.toString()).status, 'Server available');
  } finally {
    if (llm?.alive) await stopLlmotlp(llm);
    await downstream.stop().catch(() => {});
  }
});
