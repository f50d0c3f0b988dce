// bench/idle_conns.mjs — holds N idle HTTP/2 connections open to a gRPC server, as a fleet of
// SDK clients that each opened their channel and send rarely: the cost such a fleet adds to
// every wake-up of the server's poller is what bench/lowrate.sh's LOWRATE_IDLE_CONNS measures.
// The one idea: a connection counts for the server once it has exchanged the HTTP/2 preface and
// SETTINGS (acknowledged), so nothing more than that is sent, and nothing is ever closed until
// this process is.
// usage: node bench/idle_conns.mjs PORT N   (prints "open N" when all are up; exits 1 if any
//        connection closes or fails, so a server dropping them cannot pass unnoticed)
import net from 'node:net';

const [port, n] = [Number(process.argv[2]), Number(process.argv[3])];
if (!(port > 0) || !(n > 0)) {
  console.error('usage: node idle_conns.mjs PORT N');
  process.exit(2);
}
const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const settings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
const settingsAck = Buffer.from([0, 0, 0, 4, 1, 0, 0, 0, 0]);
let open = 0;
for (let i = 0; i < n; i++) {
  const s = net.connect(port, '127.0.0.1');
  let acked = false;
  s.on('connect', () => s.write(Buffer.concat([preface, settings])));
  s.on('data', () => {
    if (acked) return;
    acked = true;
    s.write(settingsAck);
    if (++open === n) console.log(`open ${n}`);
  });
  s.on('close', () => { console.error(`connection ${i} closed`); process.exit(1); });
  s.on('error', (e) => { console.error(`connection ${i}: ${e.message}`); process.exit(1); });
}
setInterval(() => {}, 1 << 30);
