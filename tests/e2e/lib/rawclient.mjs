// rawclient.mjs — a bare @grpc/grpc-js client that sends raw bytes to any method path.
// The one idea: identity (de)serializers, so a test can put garbage, truncated or oversized
// payloads on the wire and read back the exact gRPC status, with no generated stub in
// between that would refuse to build a bad message.
import grpc from '@grpc/grpc-js';
import { scaled } from './util.mjs';

const identity = (b) => b;

/** A client for host:port; `options` are channel options (e.g. compression). */
export function rawClient(endpoint, options = {}) {
  return new grpc.Client(endpoint, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': 64 * 1024 * 1024,
    // A private subchannel: a channel made after a restart must not inherit another's backoff.
    'grpc.use_local_subchannel_pool': 1,
    ...options,
  });
}

/**
 * One unary call with raw request bytes. Resolves (never rejects) with
 * {code, details, response: Buffer|undefined, ms}.
 */
export function rawCall(client, path, buf, { deadlineMs = scaled(10000) } = {}) {
  const t0 = Date.now();
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      identity,
      identity,
      buf,
      new grpc.Metadata(),
      { deadline: Date.now() + deadlineMs },
      (err, response) => {
        const ms = Date.now() - t0;
        if (err) resolve({ code: err.code, details: err.details, response: undefined, ms });
        else resolve({ code: grpc.status.OK, details: '', response, ms });
      },
    );
  });
}

export const status = grpc.status;
