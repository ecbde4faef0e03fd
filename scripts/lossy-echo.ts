// Issue 14's measurement: N seeds of a 256 KiB echo over a hostile simulated link (30-50 %
// loss each way, 30 % reordering, 10 % duplication) with default settings. Prints how many
// complete intact, the median and maximum virtual time, and the largest RTT sample; and, on
// a fixed 100 ms path at 20 % loss, the largest RTT sample (invariant 14).
//
//   npx tsx scripts/lossy-echo.ts [seeds=200]

import { simHost } from '../src/sim/host.js';
import { SimNetwork } from '../src/sim/network.js';
import { RttEstimator } from '../src/protocol/rtt.js';
import type { Connection } from '../src/protocol/connection.js';

const SIZE = 256 * 1024;

let maxSample = 0;
const sample = RttEstimator.prototype.sample;
RttEstimator.prototype.sample = function (this: RttEstimator, r: number) {
  if (r > maxSample) maxSample = r;
  sample.call(this, r);
};

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 255;
  }
  return b;
}

interface Result {
  intact: boolean;
  doneAt: number;
  error?: string;
}

function echo(seed: number, link: ConstructorParameters<typeof SimNetwork>[0]['link'], until: number): Result {
  const net = new SimNetwork({ seed, link, trace: false });
  const A = { address: '10.0.0.1', port: 1000 };
  const B = { address: '10.0.0.2', port: 2000 };
  const a = simHost(net, A);
  const b = simHost(net, B);
  b.endpoint.listen();
  const data = pattern(SIZE, seed);
  const back: Uint8Array[] = [];
  let got = 0;
  let sent = 0;
  let server: Connection | undefined;
  let srvQueue: Uint8Array[] = [];
  let error: string | undefined;
  let doneAt = -1;
  const c = a.connect(B);
  const pump = (): void => {
    while (sent < SIZE) {
      const n = c.write(data.subarray(sent, Math.min(SIZE, sent + 16384)), net.now);
      if (n === 0) break;
      sent += n;
    }
    if (sent === SIZE) c.shutdown(net.now);
    a.flush();
  };
  const srvPump = (): void => {
    while (srvQueue.length > 0) {
      const head = srvQueue[0]!;
      const n = server!.write(head, net.now);
      if (n === head.length) srvQueue.shift();
      else {
        srvQueue[0] = head.subarray(n);
        break;
      }
    }
    b.flush();
  };
  a.onEvent = (ev) => {
    if (ev.type !== 'conn') return;
    if (ev.ev.type === 'established' || ev.ev.type === 'writable') pump();
    if (ev.ev.type === 'readable') {
      let k;
      while ((k = c.read(net.now))) {
        back.push(k.slice());
        got += k.length;
      }
      if (got === SIZE && doneAt < 0) doneAt = net.now;
      a.flush();
    }
    if (ev.ev.type === 'error') error ??= `client ${ev.ev.code}`;
  };
  b.onEvent = (ev) => {
    if (ev.type === 'accept') server = ev.conn;
    if (ev.type !== 'conn' || ev.conn !== server) return;
    if (ev.ev.type === 'readable') {
      let k;
      while ((k = server.read(net.now))) srvQueue.push(k.slice());
      srvPump();
    }
    if (ev.ev.type === 'writable') srvPump();
    if (ev.ev.type === 'end') {
      srvPump();
      server.shutdown(net.now);
      b.flush();
    }
    if (ev.ev.type === 'error') error ??= `server ${ev.ev.code}`;
  };
  net.run({ until });
  let intact = got === SIZE;
  if (intact) {
    let off = 0;
    for (const k of back) {
      for (let i = 0; i < k.length; i++) if (k[i] !== data[off + i]) intact = false;
      off += k.length;
    }
  }
  return { intact, doneAt, error };
}

const seeds = Number(process.env.SEEDS ?? process.argv[2] ?? 200);
const times: number[] = [];
const failed: string[] = [];
const t0 = performance.now();
for (let seed = 1; seed <= seeds; seed++) {
  const lossUp = 0.3 + ((seed * 7919) % 21) / 100;
  const lossDown = 0.3 + ((seed * 104729) % 21) / 100;
  const link = { loss: Math.max(lossUp, lossDown), reorder: 0.3, duplicate: 0.1, delay: [10, 50] as [number, number] };
  // The network's links are per direction: set the other direction's loss apart.
  const r = echo(seed, link, 10 * 3_600_000);
  if (r.intact) times.push(r.doneAt);
  else failed.push(`seed ${seed}: ${r.error ?? 'incomplete'}`);
}
times.sort((x, y) => x - y);
const median = times.length ? times[times.length >> 1]! : NaN;
console.log(`lossy echo: ${times.length}/${seeds} complete intact; virtual time median ${(median / 1000).toFixed(1)} s, max ${((times.at(-1) ?? NaN) / 1000).toFixed(1)} s; largest RTT sample ${maxSample.toFixed(0)} ms (path RTT 20-100 ms); ${((performance.now() - t0) / 1000).toFixed(0)} s of wall time`);
if (failed.length) console.log(`  not complete: ${failed.join('; ')}`);

maxSample = 0;
let worst = 0;
for (let seed = 1; seed <= 20; seed++) {
  echo(seed, { loss: 0.2, delay: [50, 50] }, 3_600_000);
  worst = Math.max(worst, maxSample);
  maxSample = 0;
}
console.log(`fixed 100 ms path, 20 % loss each way, 20 seeds: largest RTT sample ${worst.toFixed(0)} ms (bound: 100 + 25 ms peer ACK delay)`);
