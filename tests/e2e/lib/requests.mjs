// requests.mjs — hand-built OTLP Export requests for the raw-client tests.
// The one idea: build the request as a plain object in proto field names, encode it with
// the official protos, and keep the decoded form of exactly those bytes as the truth the
// sink's copy must equal.
import crypto from 'node:crypto';
import { encodeRequest, decodeRequest } from './proto.mjs';

let seq = 0;

/**
 * An ExportTraceServiceRequest with `n` spans of one new trace. Options:
 * traceIdBytes (default 16) to make it invalid; padBytes to add a large string attribute.
 * Returns {obj, bytes, decoded, traceIdHex}.
 */
export function traceRequest({ n = 3, tag = 'raw', traceIdBytes = 16, padBytes = 0 } = {}) {
  const traceId = crypto.randomBytes(traceIdBytes);
  const now = BigInt(Date.now()) * 1000000n;
  const spans = [];
  const rootId = crypto.randomBytes(8);
  for (let i = 0; i < n; i++) {
    seq++;
    const attributes = [
      { key: 'e2e.tag', value: { string_value: tag } },
      { key: 'e2e.seq', value: { int_value: String(seq) } },
      { key: 'gen_ai.request.model', value: { string_value: 'gpt-4o-mini' } },
      { key: 'gen_ai.usage.input_tokens', value: { int_value: String(1000 + i) } },
      { key: 'llm.cost.usd', value: { double_value: 0.000125 * (i + 1) } },
      { key: 'gen_ai.request.stream', value: { bool_value: i % 2 === 0 } },
      {
        key: 'gen_ai.response.finish_reasons',
        value: { array_value: { values: [{ string_value: 'stop' }, { string_value: 'tool_calls' }] } },
      },
    ];
    if (padBytes && i === 0) attributes.push({ key: 'llm.prompt', value: { string_value: 'x'.repeat(padBytes) } });
    spans.push({
      trace_id: traceId,
      span_id: i === 0 ? rootId : crypto.randomBytes(8),
      parent_span_id: i === 0 ? Buffer.alloc(0) : rootId,
      name: i === 0 ? `raw root ${tag}` : `raw child ${tag} ${i}`,
      kind: i === 0 ? 2 : 3,
      start_time_unix_nano: String(now + BigInt(i) * 1000n),
      end_time_unix_nano: String(now + BigInt(i) * 1000n + 500000n),
      attributes,
      status: i === n - 1 && n > 1 ? { code: 2, message: 'upstream 429' } : { code: 1 },
    });
  }
  const obj = {
    resource_spans: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { string_value: 'llm-gateway' } },
            { key: 'tenant.id', value: { string_value: 'tenant-raw' } },
          ],
        },
        scope_spans: [{ scope: { name: 'e2e.raw', version: '1' }, spans }],
      },
    ],
  };
  const bytes = encodeRequest('traces', obj);
  return { obj, bytes, decoded: decodeRequest('traces', bytes), traceIdHex: traceId.toString('hex') };
}
