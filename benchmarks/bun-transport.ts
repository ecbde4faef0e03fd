// Bulk transfer on Bun with each UDP transport, and raw Bun UDP as the ceiling.
//
//   bun benchmarks/bun-transport.ts [MiB=32] [rounds=3]
//
// One process holds both ends (sender and receiver share a thread, the same for every row), over
// 127.0.0.1 with 1200-byte payloads. Rows, alternating round by round:
//   raw Bun.udpSocket: sendMany in batches behind a 4-byte sequence number, a window of 64
//     datagrams (Bun's native socket keeps the default receive buffer), cumulative ACKs every 16,
//     go-back-N on a 50 ms stall: the least work that survives a full socket buffer (as
//     benchmarks/lib/raw-dgram.ts does on node:dgram);
//   reliable-dgram on BunUdpTransport (Bun.udpSocket, one sendMany per run of datagrams);
//   reliable-dgram on UdpTransport (node:dgram, one send per datagram).
// Prints one JSON line per run and a table of medians (MB/s, and CPU ms per MB for the process).
import { randomBytes } from 'node:crypto';
import { BunUdpTransport, UdpTransport, connect, createServer, type Transport } from '../src/index.js';

declare const Bun: {
  version: string;
  udpSocket(o: unknown): Promise<{
    port: number;
    send(d: Uint8Array, port: number, addr: string): boolean;
    sendMany(p: Array<Uint8Array | number | string>): number;
    close(): void;
  }>;
};

const MIB = Number(process.argv[2] ?? 32);
const ROUNDS = Number(process.argv[3] ?? 3);
const SIZE = MIB * 1024 * 1024;
const PAYLOAD = 1200;
const HOST = '127.0.0.1';

interface Result {
  mbps: number;
  cpuMsPerMB: number;
}

function measure(run: () => Promise<void>): Promise<Result> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  return run().then(() => {
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    return { mbps: SIZE / 1e6 / (ms / 1000), cpuMsPerMB: (c.user + c.system) / 1000 / (SIZE / 1e6) };
  });
}

async function rawBun(): Promise<void> {
  // Bun.udpSocket cannot set SO_RCVBUF: the window fits the kernel's default receive buffer
  // (net.core.rmem_default, 212,992 bytes here: about 90 datagrams of 1200 bytes, by truesize).
  const WINDOW = 64;
  const ACK_EVERY = 16;
  const total = Math.ceil(SIZE / PAYLOAD);
  let acked = 0;
  let nextToSend = 0;
  let lastProgress = performance.now();
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => (resolveDone = r));
  const payload = Buffer.alloc(4 + PAYLOAD, 7);
  let expected = 0;
  let sinceAck = 0;
  const ackBuf = Buffer.alloc(4);
  let senderPort = 0;
  const receiver = await Bun.udpSocket({
    hostname: HOST,
    socket: {
      data(s: { send(d: Uint8Array, p: number, a: string): boolean }, d: Uint8Array) {
        const seq = new DataView(d.buffer, d.byteOffset, 4).getUint32(0);
        if (seq === expected) {
          expected++;
          if (++sinceAck >= ACK_EVERY || expected === total) {
            sinceAck = 0;
            ackBuf.writeUInt32BE(expected, 0);
            s.send(ackBuf, senderPort, HOST);
          }
        }
      },
    },
  });
  const sender = await Bun.udpSocket({
    hostname: HOST,
    socket: {
      data(_s: unknown, d: Uint8Array) {
        const a = new DataView(d.buffer, d.byteOffset, 4).getUint32(0);
        if (a > acked) {
          acked = a;
          lastProgress = performance.now();
          if (acked >= total) resolveDone();
          else pump();
        }
      },
      drain() {
        pump();
      },
    },
  });
  senderPort = sender.port;
  const batch: Array<Uint8Array | number | string> = [];
  function pump(): void {
    while (nextToSend < Math.min(total, acked + WINDOW)) {
      batch.length = 0;
      const first = nextToSend;
      for (let i = 0; i < 64 && nextToSend < Math.min(total, acked + WINDOW); i++, nextToSend++) {
        const b = Buffer.from(payload); // a datagram of its own, as a transport hands over
        b.writeUInt32BE(nextToSend, 0);
        batch.push(b, receiver.port, HOST);
      }
      const n = sender.sendMany(batch);
      if (n * 3 < batch.length) {
        nextToSend = first + n;
        return; // wait for drain
      }
    }
  }
  const stall = setInterval(() => {
    if (performance.now() - lastProgress > 50) {
      nextToSend = acked; // go-back-N
      lastProgress = performance.now();
      pump();
    }
  }, 10);
  pump();
  await done;
  clearInterval(stall);
  sender.close();
  receiver.close();
}

async function ours(bind: (o: { address: string }) => Promise<Transport>): Promise<void> {
  const serverT = await bind({ address: HOST });
  let got = 0;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => (resolveDone = r));
  const server = createServer({ transport: serverT }, (s) => {
    s.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= SIZE) resolveDone();
    });
    s.on('end', () => s.end());
  });
  server.listen();
  const port = serverT.address().port;
  const clientT = await bind({ address: HOST });
  const c = connect({ transport: clientT, port, host: HOST });
  c.resume(); // read the server's FIN (a socket nobody reads would not see it: issue 14 §1)
  const chunk = randomBytes(64 * 1024);
  let written = 0;
  const write = (): void => {
    while (written < SIZE) {
      written += chunk.length;
      if (!c.write(chunk)) return;
    }
    c.end();
  };
  c.on('drain', write);
  c.on('connect', write);
  await done;
  await new Promise((r) => c.on('close', r));
  await new Promise((r) => server.close(r));
}

const rows: Record<string, Result[]> = {
  'raw Bun.udpSocket (sendMany)': [],
  'reliable-dgram on BunUdpTransport': [],
  'reliable-dgram on UdpTransport (node:dgram)': [],
};
const runs: Record<string, () => Promise<void>> = {
  'raw Bun.udpSocket (sendMany)': rawBun,
  'reliable-dgram on BunUdpTransport': () => ours((o) => BunUdpTransport.bind(o)),
  'reliable-dgram on UdpTransport (node:dgram)': () => ours((o) => UdpTransport.bind(o)),
};
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(runs)) {
    const r = await measure(run);
    rows[name]!.push(r);
    console.log(
      JSON.stringify({ bench: 'bun-transport', bun: Bun.version, round, name, mib: MIB, mbps: +r.mbps.toFixed(1), cpuMsPerMB: +r.cpuMsPerMB.toFixed(2) }),
    );
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const ceiling = median(rows['raw Bun.udpSocket (sendMany)']!.map((r) => r.mbps));
console.log(`\n| ${MIB} MiB bulk on Bun ${Bun.version}, one process | MB/s (median of ${ROUNDS}) | × raw | CPU ms/MB |`);
console.log('|---|---:|---:|---:|');
for (const [name, rs] of Object.entries(rows)) {
  const mb = median(rs.map((r) => r.mbps));
  console.log(`| ${name} | ${mb.toFixed(1)} | ${(mb / ceiling).toFixed(2)} | ${median(rs.map((r) => r.cpuMsPerMB)).toFixed(2)} |`);
}
process.exit(0);
