// tail-sampling.test.mjs — the tail_sampling processor seen from outside: spans (and log
// records) in over OTLP/gRPC, one span per request where it matters, and what reaches the sink.
// The one idea: every span is built by the test and kept as decoded from the bytes sent, so each
// behaviour is checked on identities and content — which traces arrived, each span once and
// intact: unchanged by default, as the Collector leaves them, or with the attributes asked for
// (sampling.policy and sampling.adjusted_count with decision_attributes, propagated tenant.id) —
// plus llmotlp's own counters where the behaviour is "counted".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withStack } from './lib/stack.mjs';
import { Sink } from './lib/sink.mjs';
import { stopLlmotlp, binaryPath } from './lib/llmotlp.mjs';
import { freePort } from './lib/ports.mjs';
import { REPO_ROOT } from './lib/proto.mjs';
import {
  tsConfig,
  makeTrace,
  makeLog,
  Sender,
  pool,
  arrivedSpans,
  arrivedLogs,
  byTrace,
  attrsOnce,
  assertTracesWhole,
  assertLogsArrived,
  tsMetric,
  waitMetric,
  traceIdWhere,
  collectorKeeps,
  startWithConfigFile,
} from './lib/tailsampling.mjs';
import { hex, scaled, sleep } from './lib/util.mjs';

// Date.now() at the sink and at the sender vs the processor's monotonic clock: a few ms apart.
const CLOCK_SLACK_MS = 20;

const KEEP_ALL = [{ name: 'keep-all', type: 'always_sample' }];
// The default config.yaml's error policies, plus 10% of the rest.
const ERROR_POLICIES = [
  { name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } },
  {
    name: 'error-type',
    type: 'string_attribute',
    string_attribute: { key: 'error.type', values: ['.+'], enabled_regex_matching: true },
  },
  { name: 'sample-10', type: 'probabilistic', probabilistic: { sampling_percentage: 10 } },
];

// llmotlp's decision attributes on kept spans: off by default (the Collector adds none).
const DECISION_ATTRS = { decision_attributes: true };
const DECISION_ADDED = ['sampling.policy', 'sampling.adjusted_count'];

const policyOf = (a) => attrsOnce(a.span.attributes, `span ${hex(a.span.span_id)}`)['sampling.policy'];
const adjustedOf = (a) => attrsOnce(a.span.attributes, `span ${hex(a.span.span_id)}`)['sampling.adjusted_count'];
const notProbabilistic = (id) => !collectorKeeps(id, 10);

async function withSender(llm, body) {
  const sender = new Sender(llm.endpoint);
  try {
    return await body(sender);
  } finally {
    sender.close();
  }
}

// ---- 1 ---------------------------------------------------------------------------------------

test('tail_sampling: a trace sent one span per request leaves whole, once, after decision_wait', async () => {
  const waitMs = scaled(1000);
  const config = tsConfig({ decisionWait: `${waitMs}ms`, policies: KEEP_ALL, extra: DECISION_ATTRS });
  await withStack({ config }, async ({ sink, llm }) => {
    await withSender(llm, async (sender) => {
      const traces = [0, 1, 2].map((i) => makeTrace({ n: 12, tag: `whole-${i}` }));
      // Interleaved: span j of every trace, then span j + 1 — twelve requests per trace.
      for (let j = 0; j < 12; j++) for (const t of traces) await sender.sendSpans([t.spans[j]]);
      await sink.waitFor((s) => s.spans().length >= 36, scaled(15000));
      await sleep(scaled(300)); // duplicates arriving late are seen too
      const arrived = arrivedSpans(sink);
      assert.equal(arrived.length, 36, 'spans delivered');
      assertTracesWhole(sender, arrived, traces.map((t) => t.hex), { added: DECISION_ADDED });
      const groups = byTrace(arrived);
      for (const t of traces) {
        const mine = groups.get(t.hex);
        const first = Math.min(...mine.map((a) => a.at));
        assert.ok(first >= sender.lastSent(t.hex), `trace ${t.hex}: a span left before the trace's last span was sent`);
        assert.ok(
          first >= sender.firstSent(t.hex) + waitMs - CLOCK_SLACK_MS,
          `trace ${t.hex} left ${first - sender.firstSent(t.hex)} ms after its first span, before decision_wait ${waitMs} ms`,
        );
        for (const a of mine) {
          assert.deepEqual(policyOf(a), { type: 'string_value', value: 'keep-all' });
          assert.equal(adjustedOf(a), undefined, 'always_sample keeps with adjusted count 1: no attribute');
        }
      }
      assert.equal(await tsMetric(llm, 'global_count_traces_sampled', { sampled: 'true' }), 3);
      assert.equal(await tsMetric(llm, 'count_traces_sampled', { policy: 'keep-all', sampled: 'true' }), 3);
    });
  });
});

// ---- 2 ---------------------------------------------------------------------------------------

test('tail_sampling: an ERROR span or error.type keeps the whole trace; a late span follows the cached decision', async () => {
  const waitMs = scaled(500);
  const config = tsConfig({ decisionWait: `${waitMs}ms`, sampledCache: 10000, nonSampledCache: 10000, policies: ERROR_POLICIES, extra: DECISION_ATTRS });
  await withStack({ config }, async ({ sink, llm }) => {
    await withSender(llm, async (sender) => {
      // Trace IDs the 10% policy would not keep, so that only the error policies can.
      const a = makeTrace({ traceId: traceIdWhere(notProbabilistic), n: 11, errorAt: 6, tag: 'err-status' });
      const b = makeTrace({ traceId: traceIdWhere(notProbabilistic), n: 5, attrsAt: { 3: { 'error.type': 'RateLimitError' } }, tag: 'err-type' });
      const c = makeTrace({ traceId: traceIdWhere(notProbabilistic), n: 4, tag: 'fine' });
      const late = a.spans[10];
      for (let j = 0; j < 10; j++) for (const t of [a, b, c]) if (j < t.spans.length) await sender.sendSpans([t.spans[j]]);

      await sink.waitFor((s) => s.spans().length >= 15, scaled(15000));
      assert.equal(
        await waitMetric(llm, 'global_count_traces_sampled', {}, (v) => v >= 3),
        3,
        'three traces decided',
      );
      // The decision is made; the 11th span of the error trace comes late.
      await sender.sendSpans([late]);
      await sink.waitFor((s) => s.spans().length >= 16, scaled(10000));
      await sleep(scaled(300));

      const arrived = arrivedSpans(sink);
      assertTracesWhole(sender, arrived, [a.hex, b.hex], { added: DECISION_ADDED });
      const groups = byTrace(arrived);
      assert.equal(groups.get(a.hex)?.length, 11, 'the ERROR trace arrived whole, late span included');
      assert.equal(groups.get(b.hex)?.length, 5, 'the error.type trace arrived whole');
      assert.equal(groups.get(c.hex), undefined, 'the trace without an error (and outside the 10%) was dropped');
      for (const x of groups.get(a.hex)) {
        assert.deepEqual(policyOf(x), { type: 'string_value', value: 'errors' }, `span ${hex(x.span.span_id)}`);
        assert.equal(adjustedOf(x), undefined, 'kept by errors: adjusted count 1');
      }
      for (const x of groups.get(b.hex)) assert.deepEqual(policyOf(x), { type: 'string_value', value: 'error-type' });

      assert.equal(await tsMetric(llm, 'global_count_traces_sampled', { sampled: 'true' }), 2);
      assert.equal(await tsMetric(llm, 'global_count_traces_sampled', { sampled: 'false' }), 1);
      assert.equal(await tsMetric(llm, 'count_traces_sampled', { policy: 'errors', sampled: 'true' }), 1);
      assert.equal(await tsMetric(llm, 'count_traces_sampled', { policy: 'error-type', sampled: 'true' }), 1);
      assert.equal(await tsMetric(llm, 'early_releases_from_cache_decision', { sampled: 'true' }), 1, 'late span released by the cached decision');
    });
  });
});

test("tail_sampling: record_policy writes the Collector's tailsampling.* scope attributes, the cached decision included", async () => {
  const waitMs = scaled(500);
  const config = tsConfig({
    decisionWait: `${waitMs}ms`,
    sampledCache: 1000,
    policies: [
      { name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } },
      {
        name: 'routes',
        type: 'string_attribute',
        // Go's regexp: \d is a digit, the match is unanchored unless the pattern anchors it.
        string_attribute: { key: 'http.route', values: ['^/v1/name/\\d+$', '(?i)chat'], enabled_regex_matching: true },
      },
    ],
    extra: { record_policy: true },
  });
  const SCOPE_ADDED = ['tailsampling.policy', 'tailsampling.composite_policy', 'tailsampling.cached_decision'];
  await withStack({ config }, async ({ sink, llm }) => {
    await withSender(llm, async (sender) => {
      const e = makeTrace({ n: 3, errorAt: 1, tag: 'rec-err' });
      const digits = makeTrace({ n: 2, tag: 'rec-digits', attrsAt: { 1: { 'http.route': '/v1/name/123' } } });
      const chat = makeTrace({ n: 2, tag: 'rec-chat', attrsAt: { 0: { 'http.route': '/api/CHAT/completions' } } });
      const letters = makeTrace({ n: 2, tag: 'rec-letters', attrsAt: { 1: { 'http.route': '/v1/name/ddd' } } });
      for (const t of [e, digits, chat, letters]) await sender.sendEach(t.spans.slice(0, 2));
      assert.equal(await waitMetric(llm, 'global_count_traces_sampled', {}, (v) => v >= 4), 4);
      await sink.waitFor((s) => s.spans().length >= 6, scaled(10000));
      await sender.sendSpans([e.spans[2]]); // late: released by the cached decision
      await sink.waitFor((s) => s.spans().length >= 7, scaled(10000));
      await sleep(scaled(300));

      const arrived = arrivedSpans(sink);
      assertTracesWhole(sender, arrived, [e.hex, digits.hex, chat.hex], { scopeAdded: SCOPE_ADDED });
      const groups = byTrace(arrived);
      assert.equal(groups.get(letters.hex), undefined, '\\d does not match letters');
      const scopeOf = (a) => attrsOnce(a.scope.attributes, `scope of span ${hex(a.span.span_id)}`);
      for (const a of groups.get(e.hex)) {
        const late = hex(a.span.span_id) === hex(e.spans[2].span_id);
        assert.deepEqual(scopeOf(a)['tailsampling.policy'], { type: 'string_value', value: 'errors' });
        assert.deepEqual(scopeOf(a)['tailsampling.cached_decision'], late ? { type: 'bool_value', value: true } : undefined);
        assert.equal(attrsOnce(a.span.attributes, 'span')['sampling.policy'], undefined, 'no llmotlp span attribute');
      }
      for (const t of [digits, chat]) {
        assert.equal(groups.get(t.hex)?.length, 2, `${t.spans[0].name} kept whole`);
        for (const a of groups.get(t.hex)) assert.deepEqual(scopeOf(a)['tailsampling.policy'], { type: 'string_value', value: 'routes' });
      }
    });
  });
});

/** One run of `ids` (3 spans each, one span per request) through the error policies. */
async function probabilisticRun(ids, tag) {
  const waitMs = scaled(500);
  const config = tsConfig({ decisionWait: `${waitMs}ms`, policies: ERROR_POLICIES, extra: DECISION_ATTRS });
  let kept;
  await withStack({ config }, async ({ sink, llm }) => {
    await withSender(llm, async (sender) => {
      const traces = ids.map((id) => makeTrace({ traceId: id, n: 3, tag }));
      await pool(traces, 8, (t) => sender.sendEach(t.spans));
      const decided = await waitMetric(llm, 'global_count_traces_sampled', {}, (v) => v >= ids.length, scaled(20000));
      assert.equal(decided, ids.length, 'every trace decided once');
      const keptCount = await tsMetric(llm, 'global_count_traces_sampled', { sampled: 'true' });
      await sink.waitFor((s) => s.spans().length >= 3 * keptCount, scaled(10000));
      await sleep(scaled(300));
      const arrived = arrivedSpans(sink);
      const groups = byTrace(arrived);
      assert.equal(groups.size, keptCount, 'traces delivered = traces counted as sampled');
      assertTracesWhole(sender, arrived, [...groups.keys()], { added: DECISION_ADDED });
      for (const [id, spans] of groups) {
        assert.equal(spans.length, 3, `kept trace ${id} arrived whole`);
        for (const a of spans) {
          assert.deepEqual(policyOf(a), { type: 'string_value', value: 'sample-10' });
          assert.deepEqual(adjustedOf(a), { type: 'double_value', value: 10 }, 'kept at 10%: adjusted count 10');
        }
      }
      assert.equal(await tsMetric(llm, 'count_traces_sampled', { policy: 'sample-10', sampled: 'true' }), keptCount);
      kept = new Set(groups.keys());
    });
  });
  return kept;
}

test('tail_sampling: about 10% of other traces are kept, the same ones on every run, with adjusted count 10', async (t) => {
  const N = 400;
  const ids = Array.from({ length: N }, () => traceIdWhere());
  const first = await probabilisticRun(ids, 'prob-1');
  // Binomial(400, 0.1): mean 40, sd 6; the bound is about 4 sd wide on each side.
  assert.ok(first.size >= 16 && first.size <= 72, `${first.size} of ${N} traces kept at 10%`);
  // Deterministic on the trace ID, and the very traces the Collector's sampler would keep.
  const collector = new Set(ids.filter((id) => collectorKeeps(id, 10)).map((id) => id.toString('hex')));
  assert.deepEqual([...first].sort(), [...collector].sort(), 'kept set = the Collector probabilistic policy on the same IDs');
  const second = await probabilisticRun(ids, 'prob-2');
  assert.deepEqual([...second].sort(), [...first].sort(), 're-running the same trace IDs keeps the same traces');
  t.diagnostic(`${first.size}/${N} traces kept at 10%`);
});

// ---- 3 ---------------------------------------------------------------------------------------

test('tail_sampling: a late span of a dropped trace is dropped (even an ERROR one) and counted', async () => {
  const waitMs = scaled(300);
  const config = tsConfig({
    decisionWait: `${waitMs}ms`,
    sampledCache: 1000,
    nonSampledCache: 1000,
    policies: [{ name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } }],
  });
  await withStack({ config }, async ({ sink, llm }) => {
    await withSender(llm, async (sender) => {
      const d = makeTrace({ n: 4, errorAt: 3, tag: 'dropped' });
      await sender.sendEach(d.spans.slice(0, 3));
      assert.equal(await waitMetric(llm, 'global_count_traces_sampled', { sampled: 'false' }, (v) => v >= 1), 1, 'the trace was dropped');
      // Late, and with an ERROR status: the cached "dropped" decision still holds.
      await sender.sendSpans([d.spans[3]]);
      // A kept trace sent afterwards marks the point by which the late span would have left.
      const k = makeTrace({ n: 2, errorAt: 1, tag: 'marker' });
      await sender.sendEach(k.spans);
      await sink.waitFor((s) => s.spans().length >= 2, scaled(10000));
      await sleep(scaled(300) + waitMs);

      const arrived = arrivedSpans(sink);
      assertTracesWhole(sender, arrived, [k.hex]);
      assert.equal(arrived.length, 2, 'only the marker trace arrived');
      assert.equal(arrived.filter((a) => hex(a.span.trace_id) === d.hex).length, 0, 'no span of the dropped trace');
      // The late span age histogram (seconds since the decision): one observation.
      assert.equal(await tsMetric(llm, 'sampling_late_span_age_count'), 1, 'the late span is counted');
      assert.equal(await tsMetric(llm, 'sampling_late_span_age_bucket', { le: '+Inf' }), 1);
      assert.equal(await tsMetric(llm, 'early_releases_from_cache_decision', { sampled: 'false' }), 1, 'dropped by the cached decision');
      assert.equal(await tsMetric(llm, 'global_count_traces_sampled', { sampled: 'false' }), 1, 'the late span was not decided as a new trace');
      assert.equal(await tsMetric(llm, 'global_count_traces_sampled', { sampled: 'true' }), 1);
    });
  });
});

// ---- 4 ---------------------------------------------------------------------------------------

test('tail_sampling: past num_traces the oldest traces are decided early, counted, and arrive whole', async () => {
  const config = tsConfig({ decisionWait: '30s', numTraces: 5, policies: KEEP_ALL });
  await withStack({ config, selfStop: true }, async ({ sink, llm }) => {
    await withSender(llm, async (sender) => {
      const traces = Array.from({ length: 20 }, (_, i) => makeTrace({ n: 2, tag: `evict-${i}` }));
      for (const t of traces) await sender.sendEach(t.spans);
      const early = await waitMetric(llm, 'early_decisions', { reason: 'num_traces' }, (v) => v >= 15);
      assert.equal(early, 15, 'early decisions: 20 traces into a store of 5');
      await sink.waitFor((s) => s.spans().length >= 30, scaled(10000));
      await sleep(scaled(300));
      const before = arrivedSpans(sink);
      const oldest = traces.slice(0, 15).map((t) => t.hex);
      assertTracesWhole(sender, before, oldest);
      assert.deepEqual([...byTrace(before).keys()].sort(), [...oldest].sort(), 'the 15 oldest traces left, whole; the 5 newest wait');
      assert.equal(await tsMetric(llm, 'sampling_traces_on_memory'), 5);
      assert.equal(await tsMetric(llm, 'sampling_trace_dropped_too_early'), 0, 'nothing dropped undecided');

      const exit = await stopLlmotlp(llm, scaled(20000));
      assert.deepEqual(exit, { code: 0, signal: null });
      const all = arrivedSpans(sink);
      assert.equal(all.length, 40);
      assertTracesWhole(sender, all, traces.map((t) => t.hex));
    });
  });
});

test('tail_sampling: past max_buffered_bytes the oldest traces are decided early, counted, and arrive whole', async () => {
  const bound = 24000;
  const config = tsConfig({ decisionWait: '30s', maxBufferedBytes: bound, policies: KEEP_ALL });
  await withStack({ config, selfStop: true }, async ({ sink, llm }) => {
    await withSender(llm, async (sender) => {
      // Two spans of ~2 KiB each per trace: the bound holds a handful of traces.
      const pad = 'p'.repeat(2000);
      const traces = Array.from({ length: 20 }, (_, i) => makeTrace({ n: 2, tag: `bytes-${i}`, attrsAt: { 0: { 'llm.prompt': pad }, 1: { 'llm.completion': pad } } }));
      for (const t of traces) await sender.sendEach(t.spans);
      const early = await waitMetric(llm, 'early_decisions', { reason: 'max_buffered_bytes' }, (v) => v > 0);
      assert.ok(early > 0, 'early decisions over max_buffered_bytes are counted');
      assert.ok(early < 20, `${early} early decisions: every trace was evicted, the bound holds none`);
      assert.equal(await tsMetric(llm, 'early_decisions', { reason: 'num_traces' }), 0);
      await sink.waitFor((s) => s.spans().length >= 2 * early, scaled(10000));
      await sleep(scaled(300));
      const before = arrivedSpans(sink);
      const oldest = traces.slice(0, early).map((t) => t.hex);
      assertTracesWhole(sender, before, oldest);
      assert.deepEqual([...byTrace(before).keys()].sort(), [...oldest].sort(), `the ${early} oldest traces left, whole`);
      const buffered = await tsMetric(llm, 'llmotlp_tail_sampling_buffered_bytes');
      assert.ok(buffered > 0 && buffered <= bound, `buffered bytes ${buffered} within max_buffered_bytes ${bound}`);
      assert.equal(await tsMetric(llm, 'sampling_traces_on_memory'), 20 - early);

      const exit = await stopLlmotlp(llm, scaled(20000));
      assert.deepEqual(exit, { code: 0, signal: null });
      const all = arrivedSpans(sink);
      assert.equal(all.length, 40);
      assertTracesWhole(sender, all, traces.map((t) => t.hex));
    });
  });
});

// ---- 5 ---------------------------------------------------------------------------------------

test('tail_sampling: a drop policy beats always_sample (span or resource attribute)', async () => {
  const waitMs = scaled(300);
  const config = tsConfig({
    decisionWait: `${waitMs}ms`,
    policies: [
      ...KEEP_ALL, // listed first: drop policies still win
      {
        name: 'drop-health',
        type: 'drop',
        drop: { drop_sub_policy: [{ name: 'health', type: 'string_attribute', string_attribute: { key: 'llm.route', values: ['healthcheck'] } }] },
      },
    ],
  });
  await withStack({ config }, async ({ sink, llm }) => {
    await withSender(llm, async (sender) => {
      const health = Array.from({ length: 4 }, (_, i) => makeTrace({ n: 3, tag: `health-${i}`, attrsAt: { 2: { 'llm.route': 'healthcheck' } } }));
      const healthRes = makeTrace({ n: 3, tag: 'health-resource' });
      const chat = Array.from({ length: 5 }, (_, i) => makeTrace({ n: 3, tag: `chat-${i}`, attrsAt: { 1: { 'llm.route': 'chat' } } }));
      for (let j = 0; j < 3; j++) {
        for (const t of [...health, ...chat]) await sender.sendSpans([t.spans[j]]);
        await sender.sendSpans([healthRes.spans[j]], { resource: { 'service.name': 'llm-gateway', 'llm.route': 'healthcheck' } });
      }
      assert.equal(await waitMetric(llm, 'global_count_traces_sampled', {}, (v) => v >= 10), 10);
      await sink.waitFor((s) => s.spans().length >= 15, scaled(10000));
      await sleep(scaled(300));
      const arrived = arrivedSpans(sink);
      assertTracesWhole(sender, arrived, chat.map((t) => t.hex));
      assert.deepEqual([...byTrace(arrived).keys()].sort(), chat.map((t) => t.hex).sort(), 'only the non-healthcheck traces arrived');
      // Without decision_attributes, as in the Collector, a kept span gets no attribute.
      for (const a of arrived) assert.equal(policyOf(a), undefined);
      assert.equal(await tsMetric(llm, 'global_count_traces_sampled', { sampled: 'false' }), 5);
      assert.equal(await tsMetric(llm, 'global_count_traces_sampled', { sampled: 'true' }), 5);
    });
  });
});

// ---- 6 ---------------------------------------------------------------------------------------

test('tail_sampling: a composite budget bounds the spans kept per second', async (t) => {
  const perSecond = 20;
  const config = tsConfig({
    decisionWait: '300ms',
    policies: [
      {
        name: 'budget',
        type: 'composite',
        composite: {
          max_total_spans_per_second: perSecond,
          policy_order: ['first', 'second'],
          composite_sub_policy: [
            { name: 'first', type: 'always_sample' },
            { name: 'second', type: 'always_sample' },
          ],
          rate_allocation: [
            { policy: 'first', percent: 50 },
            { policy: 'second', percent: 50 },
          ],
        },
      },
    ],
    extra: DECISION_ATTRS,
  });
  await withStack({ config }, async ({ sink, llm }) => {
    await withSender(llm, async (sender) => {
      const traces = Array.from({ length: 100 }, (_, i) => makeTrace({ n: 2, tag: `burst-${i}` }));
      const t0 = Date.now();
      await pool(traces, 8, (tr) => sender.sendSpans(tr.spans));
      const sendMs = Date.now() - t0;
      assert.equal(await waitMetric(llm, 'global_count_traces_sampled', {}, (v) => v >= 100, scaled(15000)), 100);
      const keptTraces = await tsMetric(llm, 'global_count_traces_sampled', { sampled: 'true' });
      await sink.waitFor((s) => s.spans().length >= 2 * keptTraces, scaled(10000));
      await sleep(scaled(300));
      const arrived = arrivedSpans(sink);
      assert.equal(arrived.length, 2 * keptTraces, 'spans delivered = kept traces x 2');
      // Decisions fall within the sending window plus a tick or two; every second they touch
      // allows `perSecond` spans, so a generous bound is one more second than the window.
      const seconds = Math.ceil((sendMs + 500) / 1000) + 1;
      assert.ok(arrived.length > 0, 'the budget keeps something');
      assert.ok(arrived.length <= perSecond * seconds, `${arrived.length} spans kept from a burst of 200 over ~${seconds} s at ${perSecond}/s`);
      const groups = byTrace(arrived);
      assertTracesWhole(sender, arrived, [...groups.keys()], { added: DECISION_ADDED });
      for (const [, spans] of groups) assert.equal(spans.length, 2, 'kept traces are whole');
      for (const a of arrived) assert.deepEqual(policyOf(a), { type: 'string_value', value: 'budget' });
      t.diagnostic(`${arrived.length} of 200 spans kept; burst sent in ${sendMs} ms`);
    });
  });
});

// ---- 7 ---------------------------------------------------------------------------------------

test('tail_sampling: a sub-second decision_wait releases the trace after that wait, not 30 s', async () => {
  const config = tsConfig({ decisionWait: '300ms', policies: KEEP_ALL });
  await withStack({ config }, async ({ sink, llm }) => {
    await withSender(llm, async (sender) => {
      const tr = makeTrace({ n: 4, tag: 'subsecond' });
      await sender.sendEach(tr.spans);
      await sink.waitFor((s) => s.spans().length >= 4, scaled(10000));
      const arrived = arrivedSpans(sink);
      assertTracesWhole(sender, arrived, [tr.hex]);
      const at = Math.max(...arrived.map((a) => a.at));
      const held = Math.min(...arrived.map((a) => a.at)) - sender.firstSent(tr.hex);
      assert.ok(held >= 300 - CLOCK_SLACK_MS, `held ${held} ms, less than decision_wait 300 ms`);
      // Well before the Collector's 30 s default (and before a 1 s rounding of the wait).
      assert.ok(at - sender.firstSent(tr.hex) < scaled(5000), `released ${at - sender.firstSent(tr.hex)} ms after its first span`);
    });
  });
});

test('tail_sampling: decision_wait_after_root_received decides a trace soon after its root arrives', async () => {
  const config = tsConfig({ decisionWait: '10s', afterRoot: '200ms', policies: KEEP_ALL });
  await withStack({ config }, async ({ sink, llm }) => {
    await withSender(llm, async (sender) => {
      const r = makeTrace({ n: 4, tag: 'rooted' });
      const q = makeTrace({ n: 3, tag: 'rootless' });
      await sender.sendEach(r.spans.slice(1)); // children first
      await sender.sendEach(q.spans.slice(1)); // this trace's root never comes
      await sleep(600);
      assert.equal(sink.spans().length, 0, 'children alone wait for decision_wait');
      await sender.sendSpans([r.spans[0]]);
      const rootSent = sender.spans.get(`${r.hex}/${hex(r.spans[0].span_id)}`).sentAt;
      await sink.waitFor((s) => s.spans().length >= 4, scaled(5000));
      const arrived = arrivedSpans(sink);
      assertTracesWhole(sender, arrived, [r.hex]);
      assert.equal(arrived.length, 4, 'the rooted trace, and nothing of the rootless one');
      const at = Math.max(...arrived.map((a) => a.at));
      assert.ok(at >= rootSent + 200 - CLOCK_SLACK_MS, `released ${at - rootSent} ms after the root, before the 200 ms wait`);
      assert.ok(at - sender.firstSent(r.hex) < 9000, `released ${at - sender.firstSent(r.hex)} ms after the first span: that is decision_wait, not the root`);
      assert.ok(Date.now() < sender.firstSent(q.hex) + 9500, 'the rootless trace is still within its decision_wait');
      assert.equal(byTrace(arrivedSpans(sink)).get(q.hex), undefined, 'the rootless trace still waits');
    });
  });
});

// ---- 8 ---------------------------------------------------------------------------------------

const CONFIG_HEAD = `receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:4317
exporters:
  debug: {}
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces: {receivers: [otlp], processors: [tail_sampling], exporters: [debug]}
processors:
  tail_sampling:
    decision_wait: 1s
    policies:
`;

/** Position (1-based line:col) of the first occurrence of `needle` after line `afterLine`. */
function positionOf(text, needle, afterLine = 0) {
  const lines = text.split('\n');
  for (let i = afterLine; i < lines.length; i++) {
    const col = lines[i].indexOf(needle);
    if (col >= 0) return `${i + 1}:${col + 1}`;
  }
  throw new Error(`'${needle}' not in the config`);
}

for (const c of [
  {
    what: 'duplicate policy name',
    policies: `      - name: errors
        type: status_code
        status_code: {status_codes: [ERROR]}
      - name: errors
        type: always_sample
`,
    // the second `name:` value
    where: (y) => positionOf(y, 'errors', y.split('\n').findIndex((l) => l.includes('status_codes')) + 1),
    message: /duplicate policy name 'errors'/,
  },
  {
    what: 'an unknown policy type',
    policies: `      - name: keep
        type: always_sample
      - name: maybe
        type: sometimes_sample
`,
    where: (y) => positionOf(y, 'sometimes_sample'),
    message: /unknown policy type 'sometimes_sample'/,
  },
  {
    what: 'an unknown status code',
    policies: `      - name: errors
        type: status_code
        status_code:
          status_codes:
            - ERROR
            - WARNING
`,
    where: (y) => positionOf(y, 'WARNING'),
    message: /unknown status code 'WARNING'/,
  },
]) {
  test(`tail_sampling: config error naming file:line:col for ${c.what}`, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmotlp-ts-config-'));
    const file = path.join(dir, 'config.yaml');
    const yaml = CONFIG_HEAD + c.policies;
    fs.writeFileSync(file, yaml);
    const res = spawnSync(binaryPath(), ['validate', '--config', file], { encoding: 'utf8', timeout: scaled(10000) });
    const out = `${res.stdout}${res.stderr}`;
    assert.equal(res.status, 1, `validate exit status; output:\n${out}`);
    const where = `${file}:${c.where(yaml)}`;
    assert.ok(out.includes(where), `expected the position ${where} in:\n${out}`);
    assert.match(out, c.message);
    fs.rmSync(dir, { recursive: true, force: true });
  });
}

// ---- 9 ---------------------------------------------------------------------------------------

test('tail_sampling: SIGTERM decides and flushes pending traces before exit 0', async () => {
  const config = tsConfig({
    decisionWait: '30s',
    policies: [{ name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } }],
  });
  await withStack({ config, selfStop: true }, async ({ sink, llm }) => {
    await withSender(llm, async (sender) => {
      const errs = Array.from({ length: 5 }, (_, i) => makeTrace({ n: 3, errorAt: 2, tag: `term-err-${i}` }));
      const oks = Array.from({ length: 5 }, (_, i) => makeTrace({ n: 3, tag: `term-ok-${i}` }));
      for (let j = 0; j < 3; j++) for (const t of [...errs, ...oks]) await sender.sendSpans([t.spans[j]]);
      await sleep(300);
      assert.equal(sink.spans().length, 0, 'nothing leaves before decision_wait');
      assert.equal(await tsMetric(llm, 'sampling_traces_on_memory'), 10);
      const exit = await stopLlmotlp(llm, scaled(20000));
      const atExit = arrivedSpans(sink); // recorded on receipt: what arrived before the exit
      assert.deepEqual(exit, { code: 0, signal: null }, 'exit after SIGTERM');
      assertTracesWhole(sender, atExit, errs.map((t) => t.hex));
      assert.deepEqual([...byTrace(atExit).keys()].sort(), errs.map((t) => t.hex).sort(), 'the error traces arrived, decided; the others were dropped');
      for (const a of atExit) assert.equal(policyOf(a), undefined, 'no decision attribute by default');
    });
  });
});

// ---- 10 --------------------------------------------------------------------------------------

test('tail_sampling: logs follow their trace; logs without a trace pass at once; tenant.id is propagated', async () => {
  const waitMs = scaled(1500);
  const config = tsConfig(
    {
      decisionWait: `${waitMs}ms`,
      sampledCache: 1000,
      nonSampledCache: 1000,
      propagate: ['tenant.id'],
      policies: [{ name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } }],
    },
    { logs: true },
  );
  await withStack({ config }, async ({ sink, llm }) => {
    await withSender(llm, async (sender) => {
      // tenant.id is on the root span only, as the gateway copies baggage onto it.
      const k = makeTrace({ n: 4, errorAt: 2, tag: 'logs-kept', attrsAt: { 0: { 'tenant.id': 'acme' } } });
      const d = makeTrace({ n: 3, tag: 'logs-dropped', attrsAt: { 0: { 'tenant.id': 'globex' } } });
      await sender.sendSpans([k.spans[0]]);
      await sender.sendSpans([d.spans[0]]);
      await sender.sendLogs([makeLog({ trace: k, body: 'k-log-1' }), makeLog({ trace: d, body: 'd-log-1' })]);
      await sender.sendLogs([makeLog({ body: 'free-1' }), makeLog({ body: 'free-2' })]);
      await sender.sendLogs([makeLog({ trace: k, spanIndex: 1, body: 'k-log-2' }), makeLog({ body: 'free-3' })]);
      for (let j = 1; j < 4; j++) for (const t of [k, d]) if (j < t.spans.length) await sender.sendSpans([t.spans[j]]);

      // Records without a trace ID pass straight through, long before the decision.
      await sink.waitFor((s) => s.logRecords().length >= 3, scaled(5000));
      const free = assertLogsArrived(sender, arrivedLogs(sink), ['free-1', 'free-2', 'free-3']);
      const decisionAt = sender.firstSent(k.hex) + waitMs;
      for (const f of free) assert.ok(f.at < decisionAt - CLOCK_SLACK_MS, `'${f.record.body.string_value}' waited for a decision`);
      assert.equal(sink.spans().length, 0, 'the traces are still undecided');

      await sink.waitFor((s) => s.spans().length >= 4 && s.logRecords().length >= 5, scaled(10000));
      assert.equal(await waitMetric(llm, 'global_count_traces_sampled', {}, (v) => v >= 2), 2);
      // Late log records: the kept trace's is forwarded (with tenant.id), the dropped one's not.
      await sender.sendLogs([makeLog({ trace: d, body: 'd-log-late' })]);
      await sender.sendLogs([makeLog({ trace: k, spanIndex: 3, body: 'k-log-late' })]);
      await sink.waitFor((s) => s.logRecords().length >= 6, scaled(10000));
      await sleep(scaled(300));

      const spans = arrivedSpans(sink);
      assertTracesWhole(sender, spans, [k.hex], { added: ['tenant.id'] });
      assert.equal(spans.length, 4, 'the kept trace only');
      for (const a of spans) {
        const attrs = attrsOnce(a.span.attributes, `span ${hex(a.span.span_id)}`);
        assert.deepEqual(attrs['tenant.id'], { type: 'string_value', value: 'acme' }, `span ${attrs['e2e.index'].value} carries tenant.id`);
        assert.equal(attrs['sampling.policy'], undefined, 'no decision attribute by default');
      }
      const logs = arrivedLogs(sink);
      const added = ['tenant.id'];
      const kLogs = assertLogsArrived(sender, logs, ['k-log-1', 'k-log-2', 'k-log-late'], { added });
      for (const l of kLogs) {
        const attrs = attrsOnce(l.record.attributes, `log ${l.record.body.string_value}`);
        assert.deepEqual(attrs['tenant.id'], { type: 'string_value', value: 'acme' }, `log ${l.record.body.string_value} carries tenant.id`);
        assert.equal(hex(l.record.trace_id), k.hex);
      }
      // Held until the decision. Spans and logs then leave through separate exporter queues, so
      // their order at the sink is not defined: only the decision bounds them.
      for (const l of kLogs.slice(0, 2)) {
        assert.ok(l.at >= decisionAt - CLOCK_SLACK_MS, `log ${l.record.body.string_value} left before its trace's decision`);
      }
      for (const f of assertLogsArrived(sender, logs, ['free-1', 'free-2', 'free-3'])) {
        assert.equal(attrsOnce(f.record.attributes, 'free log')['tenant.id'], undefined, 'a log without a trace gets no tenant.id');
      }
      assert.equal(logs.filter((l) => hex(l.record.trace_id) === d.hex).length, 0, "the dropped trace's logs never arrive");
      assert.equal(logs.length, 6);
    });
  });
});

// ---- the default config.yaml -----------------------------------------------------------------

test("tail_sampling: the repository's config.yaml keeps errors, error.type, slow traces and 10% of the rest", async () => {
  const sink = await new Sink().start();
  const [port, httpPort, healthPort, metricsPort, promPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  // A failed start must not leave the sink listening: the test process would never exit.
  const llm = await startWithConfigFile(path.join(REPO_ROOT, 'config.yaml'), {
    port,
    metricsPort,
    env: {
      OTLP_GRPC_ENDPOINT: `127.0.0.1:${port}`,
      OTLP_HTTP_ENDPOINT: `127.0.0.1:${httpPort}`,
      LLMOTLP_HEALTH_ENDPOINT: `127.0.0.1:${healthPort}`,
      LLMOTLP_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
      LLMOTLP_PROMETHEUS_ENDPOINT: `127.0.0.1:${promPort}`,
      LLMOTLP_EXPORTERS: '[otlp]',
      OTLP_ENDPOINT: sink.endpoint,
      LLMOTLP_LOG_LEVEL: 'debug',
    },
  }).catch(async (e) => {
    await sink.stop();
    throw e;
  });
  let ok = false;
  try {
    await withSender(llm, async (sender) => {
      const id = () => traceIdWhere(notProbabilistic);
      const kept = {
        errors: makeTrace({ traceId: id(), n: 3, errorAt: 1, tag: 'default-error', attrsAt: { 0: { 'tenant.id': 'acme' } } }),
        'error-type': makeTrace({ traceId: id(), n: 3, tag: 'default-error-type', attrsAt: { 2: { 'error.type': 'timeout' } } }),
        slow: makeTrace({ traceId: id(), n: 3, tag: 'default-slow', durationMs: 6000 }),
        'sample-10': makeTrace({ traceId: traceIdWhere((x) => collectorKeeps(x, 10)), n: 3, tag: 'default-sampled' }),
      };
      const dropped = Array.from({ length: 5 }, (_, i) => makeTrace({ traceId: id(), n: 3, tag: `default-dropped-${i}` }));
      for (let j = 0; j < 3; j++) for (const t of [...Object.values(kept), ...dropped]) await sender.sendSpans([t.spans[j]]);
      await sender.sendLogs([makeLog({ trace: kept.errors, body: 'default-kept-log' }), makeLog({ trace: dropped[0], body: 'default-dropped-log' })]);
      await sender.sendLogs([makeLog({ body: 'default-free-log' })]);
      await sink.waitFor((s) => s.logRecords().length >= 1, scaled(5000));
      assert.equal(sink.spans().length, 0, 'decision_wait 10s: nothing decided yet');
      assertLogsArrived(sender, arrivedLogs(sink), ['default-free-log']);

      // SIGTERM decides the pending traces now instead of after decision_wait.
      const exit = await stopLlmotlp(llm, scaled(20000));
      assert.deepEqual(exit, { code: 0, signal: null });
      const spans = arrivedSpans(sink);
      // The default pipeline also runs genai_semconv (annotate) and cost before sampling: these
      // test spans come from the LLM scope without GenAI attributes, so they gain the violations
      // list (and error.type on ERROR spans), and the edited batches are re-encoded (compared in
      // the proto3 view).
      const added = ['sampling.policy', 'sampling.adjusted_count', 'tenant.id', 'llmotlp.semconv.violations', 'error.type'];
      assertTracesWhole(sender, spans, Object.values(kept).map((t) => t.hex), { added, proto3: true });
      assert.deepEqual([...byTrace(spans).keys()].sort(), Object.values(kept).map((t) => t.hex).sort(), 'exactly the four kept traces arrived');
      const groups = byTrace(spans);
      for (const [policy, t] of Object.entries(kept)) {
        for (const a of groups.get(t.hex)) {
          assert.deepEqual(policyOf(a), { type: 'string_value', value: policy }, `trace ${t.spans[0].name}`);
          assert.deepEqual(adjustedOf(a), policy === 'sample-10' ? { type: 'double_value', value: 10 } : undefined);
        }
      }
      for (const a of groups.get(kept.errors.hex)) assert.deepEqual(attrsOnce(a.span.attributes, 'span')['tenant.id'], { type: 'string_value', value: 'acme' });
      const logs = arrivedLogs(sink);
      const [k] = assertLogsArrived(sender, logs, ['default-kept-log'], { added: ['tenant.id', 'sampling.policy', 'sampling.adjusted_count'] });
      assert.deepEqual(attrsOnce(k.record.attributes, 'log')['tenant.id'], { type: 'string_value', value: 'acme' });
      assert.equal(logs.length, 2, 'the dropped trace\'s log did not arrive');
    });
    ok = true;
  } finally {
    if (!ok) llm.dumpLog('test failed');
    if (llm.alive) await stopLlmotlp(llm);
    await sink.stop();
  }
});
