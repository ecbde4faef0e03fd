// npx tsx benchmarks/connections.ts [connections=10000] [clientSockets=4]
//
// N concurrent connections to ONE server endpoint over real loopback UDP: the
// clients share a few sockets (connection ids demultiplex), at most WINDOW
// handshakes in flight. Reports the time to establish them all, one echo round
// over every connection, and the heap they hold (server + client ends, after
// full GCs), as one JSON line.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Host } from '../src/endpoint/host.js';
import { NodeClock, UdpTransport, nodeEnv } from '../src/io/index.js';
import type { Connection } from '../src/protocol/connection.js';

const N = Number(process.argv[2] ?? 10_000);
const SOCKETS = Number(process.argv[3] ?? 4);
const WINDOW = 512;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heap = (): number => {
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage().heapUsed;
};

const serverT = await UdpTransport.bind({ address: '127.0.0.1' });
const server = new Host(serverT, new NodeClock({ ref: true }), nodeEnv(), { backlog: 1024, maxConnections: N + 16 });
server.endpoint.listen();
const echo = (c: Connection): void => {
  let d: Uint8Array | null;
  while ((d = c.read(server.now))) c.write(d);
  server.service(c);
};
let accepted = 0;
server.onEvent = (ev) => {
  if (ev.type === 'accept') accepted++;
  if (ev.type === 'conn' && ev.ev.type === 'readable') {
    echo(ev.conn);
    server.flush();
  }
};

const clients: Host[] = [];
for (let i = 0; i < SOCKETS; i++)
  clients.push(new Host(await UdpTransport.bind({ address: '127.0.0.1' }), new NodeClock({ ref: true }), nodeEnv(), { maxConnections: N }));
const heap0 = heap();

const conns: Connection[] = [];
let established = 0;
let echoed = 0;
let failed = 0;
const t0 = performance.now();
let tEstablished = 0;
const rto = { rtoMin: 100, rtoMax: 2_000, rtoInitial: 300, granularity: 1 };
await new Promise<void>((resolve) => {
  let opened = 0;
  const openMore = (): void => {
    while (opened < N && opened - established - failed < WINDOW) {
      const h = clients[opened % SOCKETS]!;
      conns.push(h.connect({ address: '127.0.0.1', port: serverT.address().port }, { rto }));
      opened++;
    }
  };
  for (const h of clients) {
    h.onEvent = (ev) => {
      if (ev.type !== 'conn') return;
      if (ev.ev.type === 'established') {
        established++;
        if (established + failed === N) {
          tEstablished = performance.now() - t0;
          resolve();
        } else openMore();
      }
      if (ev.ev.type === 'error') {
        failed++;
        if (established + failed === N) resolve();
        else openMore();
      }
      if (ev.ev.type === 'readable') {
        while (ev.conn.read(h.now)) echoed++;
        h.service(ev.conn);
      }
    };
  }
  openMore();
});

// Every connection is alive: one small echo over each, WINDOW at a time.
const tEcho0 = performance.now();
const ping = new Uint8Array(16);
for (let i = 0; i < conns.length; ) {
  if (i - echoed < WINDOW) {
    conns[i]!.write(ping);
    clients[i % SOCKETS]!.service(conns[i]!);
    i++;
  } else await new Promise((r) => setImmediate(r));
}
while (echoed < established && performance.now() - tEcho0 < 30_000) await new Promise((r) => setTimeout(r, 1));
const echoMs = performance.now() - tEcho0;
// Let delayed ACKs and timers settle, then measure the idle connections.
await new Promise((r) => setTimeout(r, 300));
const heap1 = heap();

console.log(
  JSON.stringify({
    benchmark: 'connections',
    connections: N,
    established,
    failed,
    serverConnections: server.endpoint.connectionCount,
    accepted,
    synCookies: server.endpoint.stats.synCookiesAccepted,
    establishMs: Math.round(tEstablished),
    connectionsPerSecond: Math.round(established / (tEstablished / 1000)),
    echoAllMs: Math.round(echoMs),
    echoed,
    heapPerPairBytes: Math.round((heap1 - heap0) / Math.max(1, established)),
    heapTotalMiB: +((heap1 - heap0) / 2 ** 20).toFixed(1),
    node: process.version,
  }),
);
for (const c of conns) c.abort(0);
server.close();
for (const h of clients) h.close();
process.exit(0);
