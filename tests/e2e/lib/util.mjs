// util.mjs — small shared helpers: sleep, timeout scaling for sanitizer builds, hex IDs.
// The one idea: every time bound in the suite goes through scaled(), so an ASan build
// (LLMOTLP_SLOW=1) gets three times longer without touching each test.
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const SLOW = process.env.LLMOTLP_SLOW === '1';

/** A time bound in ms, multiplied by 3 for sanitizer builds. */
export function scaled(ms) {
  return SLOW ? ms * 3 : ms;
}

/** Lower-case hex of a Buffer (or '' for an absent/empty one). */
export function hex(buf) {
  return buf && buf.length ? Buffer.from(buf).toString('hex') : '';
}
