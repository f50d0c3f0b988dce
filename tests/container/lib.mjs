// lib.mjs — helpers of the container checks: the docker and docker-compose clients run as
// child processes, polling, and the LLM spans the checks send.
//
// The one idea: the checks drive the engine only through the same clients and commands a user
// types (DOCKER and COMPOSE from run.sh), so what passes here is what deploy/README.md shows;
// every name they create carries the run's prefix and label, so cleanup never touches anything
// else on the engine.
import { spawn, spawnSync } from 'node:child_process';
import { sleep } from '../e2e/lib/util.mjs';

export const DOCKER = process.env.DOCKER ?? 'docker';
export const COMPOSE = process.env.COMPOSE ?? 'docker-compose';
export const IMAGE = process.env.LLMOTLP_IMAGE ?? 'llmotlp:0.1.0';
export const LABEL = process.env.LLMOTLP_TEST_LABEL ?? 'org.llmotlp.test=container';
/** Prefix of every container, network, volume and Compose project of this run. */
export const PREFIX = `llmotlp-ct-${process.pid}`;

/** Runs a client; returns {code, stdout, stderr}; throws with the output unless it succeeds or `check` is false. */
export function run(cmd, args, { check = true, env, timeoutMs = 300000, cwd } = {}) {
  const res = spawnSync(cmd, args, {
    encoding: 'utf8',
    env: env ? { ...process.env, ...env } : process.env,
    timeout: timeoutMs,
    cwd,
  });
  const out = { code: res.status, stdout: res.stdout ?? '', stderr: res.stderr ?? '' };
  if (check && out.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${out.code} ${res.error ?? ''}\n${out.stdout}\n${out.stderr}`);
  }
  return out;
}

export const docker = (args, opts) => run(DOCKER, args, opts);

/**
 * `docker ARGS` without blocking this process: needed whenever the container must reach a server
 * of this process (the sink) while the command runs, e.g. `docker stop` draining to the sink.
 * Resolves to {code, stdout, stderr}; rejects unless the command succeeds.
 */
export function dockerAsync(args) {
  return new Promise((resolve, reject) => {
    const p = spawn(DOCKER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => {
      if (code === 0) resolve({ code, stdout, stderr });
      else reject(new Error(`${DOCKER} ${args.join(' ')} exited ${code}\n${stdout}\n${stderr}`));
    });
  });
}

/** docker inspect of one object, parsed. */
export function inspect(name, kind = 'container') {
  return JSON.parse(docker([kind, 'inspect', name]).stdout)[0];
}

/** The host address:port a container port is published on: [{HostIp, HostPort}]. */
export function published(container, port) {
  return inspect(container).NetworkSettings.Ports[`${port}/tcp`] ?? [];
}

/** `127.0.0.1:PORT` of a published container port (asserting it is on loopback is the caller's). */
export function hostAddr(container, port) {
  const b = published(container, port)[0];
  if (!b) throw new Error(`${container}: port ${port} is not published`);
  return `${b.HostIp}:${b.HostPort}`;
}

/** Prints a container's log to stderr (what a failed check shows). */
export function dumpLogs(container, why) {
  const r = docker(['logs', '--tail', '200', container], { check: false });
  process.stderr.write(`---- docker logs ${container} (${why}) ----\n${r.stdout}${r.stderr}\n---- end of ${container} ----\n`);
}

/** Polls `fn` (sync or async) until it returns a truthy value or `timeoutMs` passes; returns the last value. */
export async function waitFor(fn, timeoutMs, intervalMs = 250) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    let v;
    try {
      v = await fn();
    } catch {
      v = undefined;
    }
    if (v || Date.now() >= end) return v;
    await sleep(intervalMs);
  }
}

/** GET a URL; {status, text} or {status: 0, text: error} when nothing answers. */
export async function get(url) {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return { status: r.status, text: await r.text() };
  } catch (e) {
    return { status: 0, text: String(e) };
  }
}

const hexId = (n) => [...crypto.getRandomValues(new Uint8Array(n))].map((b) => b.toString(16).padStart(2, '0')).join('');

/**
 * One LLM client span as OTLP/JSON (the body of POST /v1/traces), ERROR status so tail sampling
 * keeps its trace whatever the sample rate: {body, traceId, spanId}.
 */
export function llmSpanJson({ name, tenant, provider = 'openai', model = 'gpt-4o', input = 1200, output = 300 }) {
  const traceId = hexId(16);
  const spanId = hexId(8);
  const nowNs = BigInt(Date.now()) * 1000000n;
  const attr = (key, v) => ({ key, value: typeof v === 'number' ? { intValue: v } : { stringValue: v } });
  const body = {
    resourceSpans: [{
      resource: { attributes: [attr('service.name', 'container-check')] },
      scopeSpans: [{
        scope: { name: 'LLMProxy.LLM' },
        spans: [{
          traceId, spanId, name, kind: 3,
          startTimeUnixNano: String(nowNs - 2000000000n), endTimeUnixNano: String(nowNs),
          status: { code: 2 },
          attributes: [
            attr('gen_ai.operation.name', 'chat'), attr('gen_ai.provider.name', provider),
            attr('gen_ai.request.model', model), attr('gen_ai.usage.input_tokens', input),
            attr('gen_ai.usage.output_tokens', output), attr('tenant.id', tenant),
          ],
        }],
      }],
    }],
  };
  return { body: JSON.stringify(body), traceId, spanId };
}

/** POSTs OTLP/JSON traces to http://addr/v1/traces; returns the HTTP status. */
export async function postTraces(addr, body) {
  const r = await fetch(`http://${addr}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(10000),
  });
  await r.text();
  return r.status;
}
