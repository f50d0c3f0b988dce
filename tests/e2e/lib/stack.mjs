// stack.mjs — one test's world: a sink, and llmotlp configured to export to it.
// The one idea: the body runs between a start that only returns once both are listening
// and a teardown that always stops both, prints llmotlp's log when the body failed, and,
// when it passed, asserts the graceful-exit contract (SIGTERM -> exit code 0).
import assert from 'node:assert/strict';
import { Sink } from './sink.mjs';
import { HttpSink } from './httpsink.mjs';
import { startLlmotlp, stopLlmotlp } from './llmotlp.mjs';

/**
 * withStack({config, sinkDelayMs, selfStop}, async ({sink, llm}) => {...})
 * `config` goes to makeConfig (exporterEndpoint is filled in with the sink's).
 * selfStop: the body stops llmotlp itself and checks the exit.
 * httpSink: the downstream is an OTLP/HTTP server (HttpSink) and llmotlp exports to it with
 * the otlphttp exporter.
 */
export async function withStack(opts, body) {
  const sink = await (opts.httpSink ? new HttpSink() : new Sink()).start();
  if (opts.sinkDelayMs) sink.delayMs = opts.sinkDelayMs;
  const downstream = opts.httpSink ? { exporter: 'otlphttp', exporterEndpoint: sink.url } : { exporterEndpoint: sink.endpoint };
  let llm;
  try {
    llm = await startLlmotlp({ ...downstream, ...(opts.config ?? {}) });
  } catch (err) {
    await sink.stop();
    throw err;
  }
  let ok = false;
  try {
    await body({ sink, llm });
    ok = true;
  } catch (err) {
    llm.dumpLog('test failed');
    throw err;
  } finally {
    try {
      if (llm.alive) {
        const res = await stopLlmotlp(llm);
        if (ok) assert.deepEqual(res, { code: 0, signal: null }, 'llmotlp must exit 0 on SIGTERM');
      } else if (ok && !opts.selfStop) {
        llm.dumpLog('exited before the end of the test');
        assert.fail(`llmotlp exited before the end of the test: ${JSON.stringify(llm.exit)}`);
      }
    } finally {
      await sink.stop();
    }
  }
}
