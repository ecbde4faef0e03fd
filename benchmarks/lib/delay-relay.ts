// A user-space UDP relay that adds delay (RTT/2 each way) and, optionally, a
// rate limit with a drop-tail queue, in front of one UDP server on loopback.
// The client sends to the relay's client-facing port; the server sees the
// relay's server-facing port as its peer. Each direction is its own link:
//
//   departure = max(now, previous departure) + wire bytes · 8 / rate
//   dropped if departure − now > queue (the packet would wait longer than the queue holds)
//   delivered at departure + RTT/2
//
// Wire bytes are the datagram plus 28 (IPv4 + UDP headers). Runs as a benchmark
// role (worker.ts) or standalone:
//   npx tsx benchmarks/lib/delay-relay.ts --port 9000 --rtt 20 [--rate 100] [--queue 20]
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { HOST, SOCK_BUF } from './common.js';

export interface RelayOptions {
  /** The server's UDP port on 127.0.0.1. */
  port: number;
  /** Round-trip time added, ms (half each way). */
  rttMs: number;
  /** Rate limit each way, Mbit/s; omitted = unlimited. */
  rateMbit?: number;
  /** Longest queueing delay before tail drop, ms (only with a rate). */
  queueMs?: number;
}

export interface Relay {
  /** Where clients send. */
  clientPort: number;
  /** Where the server sees traffic come from. */
  serverSidePort: number;
  stats(): { forwarded: number; dropped: number };
  close(): void;
}

const WIRE_OVERHEAD = 28;

class Link {
  private readonly q: Array<{ data: Buffer; at: number }> = [];
  private head = 0;
  private lastDepart = 0;
  private timer: NodeJS.Timeout | null = null;
  forwarded = 0;
  dropped = 0;

  constructor(
    private readonly oneWayMs: number,
    private readonly bytesPerMs: number, // Infinity = no limit
    private readonly queueMs: number,
    private readonly deliver: (d: Buffer) => void,
  ) {}

  push(data: Buffer): void {
    const now = performance.now();
    let depart = now;
    if (Number.isFinite(this.bytesPerMs)) {
      depart = Math.max(now, this.lastDepart) + (data.length + WIRE_OVERHEAD) / this.bytesPerMs;
      if (depart - now > this.queueMs) {
        this.dropped++;
        return;
      }
      this.lastDepart = depart;
    }
    this.q.push({ data, at: depart + this.oneWayMs });
    if (this.timer === null) this.arm(now);
  }

  private arm(now: number): void {
    const first = this.q[this.head];
    if (!first) return;
    this.timer = setTimeout(this.run, Math.max(0, Math.floor(first.at - now)));
  }

  private readonly run = (): void => {
    this.timer = null;
    const now = performance.now();
    // Deliver everything due within the timer's granularity (0.5 ms).
    while (this.head < this.q.length && this.q[this.head]!.at <= now + 0.5) {
      this.deliver(this.q[this.head]!.data);
      this.head++;
      this.forwarded++;
    }
    if (this.head > 4096 && this.head * 2 > this.q.length) {
      this.q.splice(0, this.head);
      this.head = 0;
    }
    this.arm(now);
  };

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

function bindUdp(): Promise<dgram.Socket> {
  return new Promise((res, rej) => {
    const s = dgram.createSocket('udp4');
    s.once('error', rej);
    s.bind(0, HOST, () => {
      s.off('error', rej);
      s.on('error', () => {});
      try {
        s.setRecvBufferSize(SOCK_BUF);
        s.setSendBufferSize(SOCK_BUF);
      } catch {
        /* capped */
      }
      res(s);
    });
  });
}

export async function startRelay(o: RelayOptions): Promise<Relay> {
  const a = await bindUdp(); // client-facing
  const b = await bindUdp(); // server-facing
  const bytesPerMs = o.rateMbit ? (o.rateMbit * 1e6) / 8 / 1000 : Infinity;
  const queueMs = o.queueMs ?? Math.max(20, o.rttMs);
  let client: { port: number; address: string } | null = null;
  const up = new Link(o.rttMs / 2, bytesPerMs, queueMs, (d) => b.send(d, o.port, HOST));
  const down = new Link(o.rttMs / 2, bytesPerMs, queueMs, (d) => {
    if (client) a.send(d, client.port, client.address);
  });
  a.on('message', (m, r) => {
    // The first sender is the client, for good (as socat's UDP-LISTEN without fork): a datagram
    // from another port (reliable-dgram's one-byte port probe, src/io/reachability.ts, sent from a
    // throw-away socket as a dial starts) is forwarded but does not take over the way back.
    client ??= { port: r.port, address: r.address };
    up.push(m);
  });
  b.on('message', (m) => down.push(m));
  return {
    clientPort: a.address().port,
    serverSidePort: b.address().port,
    stats: () => ({ forwarded: up.forwarded + down.forwarded, dropped: up.dropped + down.dropped }),
    close() {
      up.close();
      down.close();
      a.close();
      b.close();
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: { port: { type: 'string' }, rtt: { type: 'string', default: '20' }, rate: { type: 'string' }, queue: { type: 'string' } },
  });
  if (!values.port) throw new Error('--port is required');
  const r = await startRelay({
    port: Number(values.port),
    rttMs: Number(values.rtt),
    rateMbit: values.rate ? Number(values.rate) : undefined,
    queueMs: values.queue ? Number(values.queue) : undefined,
  });
  console.log(`relay: send to ${HOST}:${r.clientPort} → ${HOST}:${values.port} (server sees ${r.serverSidePort}), RTT ${values.rtt} ms`);
}
