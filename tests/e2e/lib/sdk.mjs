// sdk.mjs — the LLM gateway stand-in: the official OpenTelemetry JS SDK producing traces,
// metrics and logs and exporting them over OTLP/gRPC, http/protobuf or http/json.
// The one idea: every provider has an in-memory exporter (or reader) next to the OTLP one,
// so the test knows exactly what the SDK produced and can compare it with what arrived
// downstream, instead of trusting counts.
import { trace, ROOT_CONTEXT, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  InMemorySpanExporter,
} from '@opentelemetry/sdk-trace-base';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  InMemoryMetricExporter,
  AggregationTemporality,
} from '@opentelemetry/sdk-metrics';
import {
  LoggerProvider,
  BatchLogRecordProcessor,
  SimpleLogRecordProcessor,
  InMemoryLogRecordExporter,
} from '@opentelemetry/sdk-logs';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { scaled } from './util.mjs';

export const RESOURCE_ATTRIBUTES = {
  'service.name': 'llm-gateway',
  'service.version': '1.4.2',
  'deployment.environment.name': 'e2e',
  'tenant.id': 'tenant-42',
  'tenant.tier': 'enterprise',
  'tenant.region.ids': ['eu-west-1', 'eu-central-1'],
  'host.cpu.count': 2,
};

const EXPORTERS = {
  grpc: { traces: OTLPTraceExporter, metrics: OTLPMetricExporter, logs: OTLPLogExporter },
  'http/protobuf': { traces: ProtoTraceExporter, metrics: ProtoMetricExporter, logs: ProtoLogExporter },
  'http/json': { traces: JsonTraceExporter, metrics: JsonMetricExporter, logs: JsonLogExporter },
};

/**
 * Build the three providers, each exporting over OTLP to `url` (http://host:port) and to an
 * in-memory exporter. Only the signals in `signals` are built. `protocol` is 'grpc' (the
 * default), 'http/protobuf' or 'http/json' (the SDK's own OTLP/HTTP exporters, posting to
 * url + /v1/<signal>); `gzip` compresses every signal, `gzipTraces` traces only.
 */
export function createSdk({ url, signals = ['traces', 'metrics', 'logs'], gzipTraces = false, gzip = false, protocol = 'grpc', resourceAttributes = {} }) {
  const resource = resourceFromAttributes({ ...RESOURCE_ATTRIBUTES, ...resourceAttributes });
  const timeoutMillis = scaled(10000);
  const sdk = { resource };
  const classes = EXPORTERS[protocol];
  if (!classes) throw new Error(`unknown OTLP protocol ${protocol}`);
  const exporterOpts = (signal) => ({
    url: protocol === 'grpc' ? url : `${url}/v1/${signal}`,
    timeoutMillis,
    ...(gzip || (gzipTraces && signal === 'traces') ? { compression: CompressionAlgorithm.GZIP } : {}),
  });
  if (signals.includes('traces')) {
    sdk.memSpans = new InMemorySpanExporter();
    sdk.traceExporter = new classes.traces(exporterOpts('traces'));
    sdk.tracerProvider = new BasicTracerProvider({
      resource,
      spanProcessors: [
        new SimpleSpanProcessor(sdk.memSpans),
        new BatchSpanProcessor(sdk.traceExporter, {
          maxExportBatchSize: 50,
          scheduledDelayMillis: 100,
          maxQueueSize: 100000,
          exportTimeoutMillis: timeoutMillis,
        }),
      ],
    });
  }
  if (signals.includes('metrics')) {
    // A long interval: the only collection happens at shutdown, so cumulative points are
    // exported exactly once and "each point once" is a meaningful assertion.
    sdk.memMetrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    sdk.metricExporter = new classes.metrics(exporterOpts('metrics'));
    sdk.meterProvider = new MeterProvider({
      resource,
      readers: [
        new PeriodicExportingMetricReader({
          exporter: sdk.metricExporter,
          exportIntervalMillis: 600000,
          exportTimeoutMillis: timeoutMillis,
        }),
        new PeriodicExportingMetricReader({ exporter: sdk.memMetrics, exportIntervalMillis: 600000 }),
      ],
    });
  }
  if (signals.includes('logs')) {
    sdk.memLogs = new InMemoryLogRecordExporter();
    sdk.logExporter = new classes.logs(exporterOpts('logs'));
    sdk.loggerProvider = new LoggerProvider({
      resource,
      processors: [
        new SimpleLogRecordProcessor({ exporter: sdk.memLogs }),
        new BatchLogRecordProcessor({
          exporter: sdk.logExporter,
          maxExportBatchSize: 50,
          scheduledDelayMillis: 100,
          maxQueueSize: 100000,
          exportTimeoutMillis: timeoutMillis,
        }),
      ],
    });
  }
  return sdk;
}

/**
 * Flush and shut down every provider built. The in-memory copies are taken between flush
 * and shutdown (the span and log exporters clear themselves on shutdown) into
 * sdk.sent = {spans, logs, metrics}; metrics are collected here, once, by the shutdown.
 */
export async function shutdownSdk(sdk) {
  sdk.sent = { spans: [], logs: [], metrics: [] };
  const errors = [];
  const guard = async (what, fn) => {
    try {
      await fn();
    } catch (err) {
      errors.push(`${what}: ${err?.message ?? err}`);
    }
  };
  if (sdk.tracerProvider) {
    await guard('traces flush', () => sdk.tracerProvider.forceFlush());
    sdk.sent.spans = [...sdk.memSpans.getFinishedSpans()];
    await guard('traces shutdown', () => sdk.tracerProvider.shutdown());
  }
  if (sdk.loggerProvider) {
    await guard('logs flush', () => sdk.loggerProvider.forceFlush());
    sdk.sent.logs = [...sdk.memLogs.getFinishedLogRecords()];
    await guard('logs shutdown', () => sdk.loggerProvider.shutdown());
  }
  if (sdk.meterProvider) {
    await guard('metrics shutdown', () => sdk.meterProvider.shutdown());
    sdk.sent.metrics = [...sdk.memMetrics.getMetrics()];
  }
  return errors;
}

const MODELS = ['gpt-4o-mini', 'claude-3-5-sonnet', 'llama-3.1-70b'];

/**
 * Emit `traces` traces of `spansPerTrace` spans each: a SERVER root, CLIENT LLM calls with
 * gen_ai.* attributes of every value type, INTERNAL grandchildren, events, links to the
 * previous trace's root, one ERROR span per trace; and, for each trace, a few log records
 * emitted in the context of its spans. Returns the number of spans and logs emitted.
 */
export function emitWorkload(sdk, { traces = 10, spansPerTrace = 20, logsPerTrace = 3, tag = 'w' } = {}) {
  const tracer = sdk.tracerProvider?.getTracer('llm-gateway.router', '1.4.2');
  const logger = sdk.loggerProvider?.getLogger('llm-gateway.audit', '1.4.2');
  let spans = 0;
  let logs = 0;
  let prevRoot = null;
  for (let t = 0; t < traces; t++) {
    const model = MODELS[t % MODELS.length];
    const root = tracer.startSpan(`POST /v1/chat/completions ${tag}`, {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': 'POST',
        'http.response.status_code': 200,
        'url.path': '/v1/chat/completions',
        'tenant.id': `tenant-${t % 3}`,
        'e2e.tag': tag,
        'e2e.trace_index': t,
      },
      links: prevRoot
        ? [{ context: prevRoot.spanContext(), attributes: { 'link.reason': 'conversation.previous', 'link.index': t - 1 } }]
        : [],
    });
    spans++;
    const rootCtx = trace.setSpan(ROOT_CONTEXT, root);
    const openClients = [];
    let lastClientCtx = rootCtx;
    for (let i = 1; i < spansPerTrace; i++) {
      const isClient = i % 2 === 1;
      const parentCtx = isClient ? rootCtx : lastClientCtx;
      const span = tracer.startSpan(
        isClient ? `chat ${model}` : `tool.call lookup_${i}`,
        {
          kind: isClient ? SpanKind.CLIENT : SpanKind.INTERNAL,
          attributes: isClient
            ? {
                'gen_ai.operation.name': 'chat',
                'gen_ai.system': model.split('-')[0],
                'gen_ai.request.model': model,
                'gen_ai.response.model': `${model}-2024-08-06`,
                'gen_ai.usage.input_tokens': 100 + t * 10 + i,
                'gen_ai.usage.output_tokens': 7 * i,
                'gen_ai.request.temperature': 0.25 + i / 100,
                'gen_ai.request.top_p': 0.9,
                'gen_ai.request.stream': i % 4 === 1,
                'gen_ai.response.finish_reasons': ['stop', 'length'],
                'gen_ai.request.stop_sequences': ['\n\n', 'END'],
                'llm.cost.usd': (100 + i) * 0.0000015,
                'llm.token_ids.sample': [1, 29871, 13, 2 ** 40],
                'llm.logprobs.sample': [-0.5, -1.25],
                'llm.flags': [true, false, true],
                'llm.prompt.preview': 'Summarize: héllo wörld 世界 🚀 "quoted" \\ backslash',
                'llm.balance.delta': -42,
                'llm.request.size_bytes': 2 ** 33 + i,
              }
            : { 'tool.name': `lookup_${i}`, 'tool.index': i, 'tool.cached': false },
        },
        parentCtx,
      );
      spans++;
      if (isClient) {
        span.addEvent('gen_ai.content.prompt', {
          'gen_ai.prompt': `What is ${t}+${i}?`,
          'gen_ai.prompt.tokens': 5 + i,
        });
        span.addEvent('gen_ai.choice', { 'gen_ai.completion': `${t + i}`, index: 0, score: 0.875 });
        lastClientCtx = trace.setSpan(ROOT_CONTEXT, span);
      }
      if (i === spansPerTrace - 1 || i === 5) {
        span.recordException(new Error(`upstream timeout in ${tag}/${t}/${i}`));
        span.setStatus({ code: SpanStatusCode.ERROR, message: `rate limited by upstream (${tag}/${t}/${i})` });
      } else if (i % 3 === 0) {
        span.setStatus({ code: SpanStatusCode.OK });
      }
      if (logger && i <= logsPerTrace) {
        logger.emit({
          severityNumber: i === 1 ? SeverityNumber.WARN : SeverityNumber.INFO,
          severityText: i === 1 ? 'WARN' : 'INFO',
          body: `completion ${tag}/${t}/${i} finished model=${model}`,
          attributes: {
            'gen_ai.request.model': model,
            'gen_ai.usage.input_tokens': 100 + i,
            'llm.cost.usd': 0.0021 * i,
            'llm.cached': i % 2 === 0,
            'llm.tags': ['chat', tag],
          },
          context: trace.setSpan(ROOT_CONTEXT, span),
        });
        logs++;
      }
      // INTERNAL spans end at once; CLIENT spans stay open over their INTERNAL children
      // and end just before the root.
      if (isClient) openClients.push(span);
      else span.end();
    }
    for (const c of openClients) c.end();
    if (logger) {
      // One structured (map) body per trace, in the root's context.
      logger.emit({
        severityNumber: SeverityNumber.ERROR,
        severityText: 'ERROR',
        body: { event: 'gateway.summary', trace_index: t, tag, models: [model], ok: false, ratio: 0.5 },
        attributes: { 'event.name': 'gateway.summary', 'e2e.tag': tag },
        context: rootCtx,
      });
      logs++;
    }
    root.setStatus({ code: SpanStatusCode.OK });
    root.end();
    prevRoot = root;
  }
  return { spans, logs };
}

/**
 * Record metrics: a counter, an up-down counter, a histogram and a gauge, with attributes.
 * Returns the values a correct pipeline must deliver, computed independently of the SDK.
 */
export function emitMetrics(sdk, { tag = 'w' } = {}) {
  const meter = sdk.meterProvider.getMeter('llm-gateway.metrics', '1.4.2');
  const tokens = meter.createCounter('gen_ai.client.token.usage.total', { unit: '{token}', description: 'tokens used' });
  const inflight = meter.createUpDownCounter('llm.requests.inflight', { unit: '{request}' });
  const duration = meter.createHistogram('gen_ai.client.operation.duration', {
    unit: 's',
    description: 'LLM call duration',
    advice: { explicitBucketBoundaries: [0.1, 0.5, 1, 2.5, 5] },
  });
  const queueDepth = meter.createGauge('llm.queue.depth', { unit: '{request}' });
  const expected = { counters: {}, updown: {}, histograms: {}, gauges: {} };
  for (let m = 0; m < MODELS.length; m++) {
    const model = MODELS[m];
    for (const type of ['input', 'output']) {
      const attrs = { 'gen_ai.request.model': model, 'gen_ai.token.type': type, 'e2e.tag': tag };
      let sum = 0;
      for (let k = 1; k <= 5; k++) {
        const v = (m + 1) * k * (type === 'input' ? 100 : 10);
        tokens.add(v, attrs);
        sum += v;
      }
      expected.counters[`${model}|${type}`] = sum;
    }
    const hattrs = { 'gen_ai.request.model': model, 'gen_ai.operation.name': 'chat', 'e2e.tag': tag };
    const values = [0.05, 0.3, 0.7, 1.2, 3.3, 7.5].map((x) => x * (m + 1));
    for (const v of values) duration.record(v, hattrs);
    const bounds = [0.1, 0.5, 1, 2.5, 5];
    const buckets = new Array(bounds.length + 1).fill(0);
    for (const v of values) {
      let b = bounds.findIndex((ub) => v <= ub);
      if (b < 0) b = bounds.length;
      buckets[b]++;
    }
    expected.histograms[model] = {
      count: values.length,
      sum: values.reduce((a, b) => a + b, 0),
      min: Math.min(...values),
      max: Math.max(...values),
      buckets,
      bounds,
    };
    inflight.add(5, { 'gen_ai.request.model': model });
    inflight.add(-(m + 1), { 'gen_ai.request.model': model });
    expected.updown[model] = 5 - (m + 1);
    queueDepth.record(10 * (m + 1), { 'gen_ai.request.model': model, 'queue.name': 'primary' });
    queueDepth.record(11 * (m + 1) + 0.5, { 'gen_ai.request.model': model, 'queue.name': 'primary' });
    expected.gauges[model] = 11 * (m + 1) + 0.5;
  }
  return expected;
}
