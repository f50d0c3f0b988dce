// prometheus.test.mjs — llmotlp's own telemetry, read by a real Prometheus.
// The one idea: the test knows exactly how many spans and log records it sent (over gRPC and
// over OTLP/HTTP) and that the backend received them; a Prometheus server started by the
// test scrapes llmotlp's /metrics every second, and its query API must come to show those
// same numbers as otelcol_receiver_accepted_* and otelcol_exporter_sent_* — which proves
// the names, labels, types and text format are what Prometheus ingests, not just parseable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withStack } from './lib/stack.mjs';
import { startPrometheus, scrape, sumOf } from './lib/prometheus.mjs';
import { rawClient, rawCall, status } from './lib/rawclient.mjs';
import { postOtlp } from './lib/httpclient.mjs';
import { traceRequest } from './lib/requests.mjs';
import { exportPath } from './lib/proto.mjs';
import { createSdk, shutdownSdk, emitWorkload } from './lib/sdk.mjs';
import { scaled, sleep } from './lib/util.mjs';

test('prometheus: a real Prometheus scrapes /metrics and shows what was sent', async () => {
  await withStack({ config: { http: true } }, async ({ sink, llm }) => {
    // Prometheus first, so it also sees the counters at zero before anything is sent.
    const prom = await startPrometheus({ targets: [`127.0.0.1:${llm.metricsPort}`] });
    const client = rawClient(llm.endpoint);
    try {
      const up = await prom.waitForValue('up{job="llmotlp"}', (v) => v === 1, scaled(15000));
      assert.equal(up, 1, `Prometheus cannot scrape llmotlp: ${JSON.stringify(await prom.targets())}\n${prom.log()}`);
      assert.equal(await prom.queryValue('sum(otelcol_receiver_accepted_spans)'), 0);

      // gRPC: raw requests of 7 spans each.
      let grpcSpans = 0;
      for (let i = 0; i < 6; i++) {
        const r = traceRequest({ n: 7, tag: `prom-grpc-${i}` });
        const res = await rawCall(client, exportPath('traces'), r.bytes);
        assert.equal(res.code, status.OK, res.details);
        grpcSpans += 7;
      }
      // OTLP/HTTP: raw protobuf posts of 5 spans each ...
      let httpSpans = 0;
      for (let i = 0; i < 4; i++) {
        const r = traceRequest({ n: 5, tag: `prom-http-${i}` });
        const res = await postOtlp(llm.httpUrl, 'traces', r.bytes);
        assert.equal(res.status, 200, res.body.toString());
        httpSpans += 5;
      }
      // ... and the SDK's http/protobuf exporter, with logs.
      const sdk = createSdk({ url: llm.httpUrl, protocol: 'http/protobuf', signals: ['traces', 'logs'] });
      const sent = emitWorkload(sdk, { traces: 4, spansPerTrace: 10, logsPerTrace: 2, tag: 'prom' });
      assert.deepEqual(await shutdownSdk(sdk), [], 'llmotlp refused some SDK exports');
      httpSpans += sent.spans;
      const totalSpans = grpcSpans + httpSpans;
      const totalLogs = sent.logs;
      await sink.waitFor((s) => s.spans().length >= totalSpans && s.logRecords().length >= totalLogs, scaled(15000));
      assert.equal(sink.spans().length, totalSpans, 'spans at the backend');
      assert.equal(sink.logRecords().length, totalLogs, 'log records at the backend');

      // What llmotlp serves directly (names as the Collector's; labelled by component). The
      // exporter counts a send once the backend's answer is back, which may be just after the
      // sink has recorded the request: scrape until it has.
      let direct = await scrape(llm.metricsUrl);
      for (const end = Date.now() + scaled(10000); Date.now() < end; direct = await scrape(llm.metricsUrl)) {
        if (sumOf(direct.samples, 'otelcol_exporter_sent_spans', { exporter: 'otlp' }) >= totalSpans) break;
        await sleep(50);
      }
      assert.equal(direct.status, 200);
      assert.match(direct.contentType ?? '', /^text\/plain/);
      assert.equal(direct.types.otelcol_receiver_accepted_spans, 'counter');
      assert.equal(sumOf(direct.samples, 'otelcol_receiver_accepted_spans', { receiver: 'otlp' }), totalSpans);
      assert.equal(sumOf(direct.samples, 'otelcol_exporter_sent_spans', { exporter: 'otlp' }), totalSpans);

      // What Prometheus shows, once a scrape after the sends has landed.
      const accepted = await prom.waitForValue('sum(otelcol_receiver_accepted_spans)', (v) => v === totalSpans);
      assert.equal(accepted, totalSpans, `otelcol_receiver_accepted_spans in Prometheus; targets: ${JSON.stringify(await prom.targets())}\n${prom.log()}`);
      assert.equal(await prom.queryValue('sum(otelcol_receiver_accepted_spans{transport="grpc"})'), grpcSpans);
      assert.equal(await prom.queryValue('sum(otelcol_receiver_accepted_spans{transport="http"})'), httpSpans);
      assert.equal(await prom.waitForValue('sum(otelcol_exporter_sent_spans{exporter="otlp"})', (v) => v === totalSpans), totalSpans);
      assert.equal(await prom.waitForValue('sum(otelcol_receiver_accepted_log_records)', (v) => v === totalLogs), totalLogs);
      assert.equal(await prom.waitForValue('sum(otelcol_exporter_sent_log_records)', (v) => v === totalLogs), totalLogs);
      assert.equal(await prom.queryValue('sum(otelcol_receiver_refused_spans)'), 0);
      assert.equal(await prom.queryValue('sum(otelcol_exporter_send_failed_spans)'), 0);
      assert.equal(await prom.queryValue('otelcol_exporter_queue_capacity{exporter="otlp"}'), 1000);
      const rss = await prom.queryValue('otelcol_process_memory_rss');
      assert.ok(rss > 1024 * 1024, `otelcol_process_memory_rss = ${rss}`);
      // Counters only go up: the increase over the run equals the total as well.
      const inc = await prom.queryValue(
        'max_over_time(otelcol_receiver_accepted_spans{transport="grpc"}[5m]) - min_over_time(otelcol_receiver_accepted_spans{transport="grpc"}[5m])',
      );
      assert.equal(inc, grpcSpans);
    } catch (err) {
      process.stderr.write(`\n----- prometheus log -----\n${prom.log()}\n`);
      throw err;
    } finally {
      client.close();
      await prom.stop();
    }
  });
});
