// ports.mjs — free-port finder and "wait until a port accepts connections".
// The one idea: let the kernel pick (bind port 0 on 127.0.0.1), read the port, release it;
// ports handed out in this process are remembered so two calls never return the same one.
import net from 'node:net';
import { sleep } from './util.mjs';

const handedOut = new Set();

export async function freePort() {
  for (let i = 0; i < 20; i++) {
    const port = await new Promise((resolve, reject) => {
      const srv = net.createServer();
      srv.unref();
      srv.on('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const { port: p } = srv.address();
        srv.close(() => resolve(p));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('could not find a free port');
}

/** One TCP connect attempt; resolves true if 127.0.0.1:port accepted it. */
export function canConnect(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** Wait until the port accepts connections, or `shouldStop()` says to give up. */
export async function waitForPort(port, timeoutMs, shouldStop = () => false) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (shouldStop()) return false;
    if (await canConnect(port)) return true;
    await sleep(50);
  }
  return false;
}
