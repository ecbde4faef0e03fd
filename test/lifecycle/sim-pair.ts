// A client and a server on the simulator, at the core level, with every datagram and
// error recorded: the lifecycle tests stage outages, crashes and idle periods on it.

import type { Host } from '../../src/endpoint/host.js';
import type { Address } from '../../src/endpoint/types.js';
import type { Connection } from '../../src/protocol/connection.js';
import type { ConnectionOptions } from '../../src/protocol/options.js';
import { SimNetwork, simHost, type LinkOptions } from '../../src/sim/index.js';

export const CLIENT: Address = { address: '10.0.0.1', port: 1000 };
export const SERVER: Address = { address: '10.0.0.2', port: 2000 };

export interface PairOptions {
  seed?: number;
  /** Default: 10 ms each way, 1 MB/s (a transfer of a few MiB is still running seconds in). */
  link?: Partial<LinkOptions>;
  conn?: Partial<ConnectionOptions>;
  /** Report datagrams to a closed port back to the sender as ECONNREFUSED (ICMP). */
  icmp?: boolean;
}

export interface Pair {
  net: SimNetwork;
  a: Host;
  b: Host;
  client: Connection;
  /** The server's connection, once accepted. */
  server(): Connection;
  /** Bytes each side has read. */
  read: { client: number; server: number };
  /** [time, code] of each side's error. */
  errors: { client?: [number, string]; server?: [number, string] };
  /** Send times of every datagram, per side. */
  sends: { client: number[]; server: number[] };
  /** Write `n` bytes from the client (as the send buffer takes them). */
  clientWrites(n: number): void;
}

export function simPair(o: PairOptions = {}): Pair {
  const net = new SimNetwork({ seed: o.seed ?? 1, link: { delay: [10, 10], bandwidth: 1_000_000, ...o.link }, trace: false, icmpUnreachable: o.icmp ?? false });
  const a = simHost(net, CLIENT, { connection: o.conn });
  const b = simHost(net, SERVER, { connection: o.conn });
  b.endpoint.listen();
  const p: Pair = {
    net,
    a,
    b,
    client: undefined as unknown as Connection,
    server: () => srv!,
    read: { client: 0, server: 0 },
    errors: {},
    sends: { client: [], server: [] },
    clientWrites: (n) => {
      pending += n;
      pump();
    },
  };
  let srv: Connection | undefined;
  let pending = 0;
  const chunk = new Uint8Array(64 * 1024);
  const pump = (): void => {
    while (pending > 0) {
      const n = p.client.write(chunk.subarray(0, Math.min(chunk.length, pending)));
      if (n === 0) break;
      pending -= n;
    }
    a.service(p.client);
  };
  for (const [h, side] of [
    [a, 'client'],
    [b, 'server'],
  ] as const) {
    const send = h.transport.send.bind(h.transport);
    h.transport.send = (d, to) => {
      p.sends[side].push(net.now);
      send(d, to);
    };
    h.onEvent = (ev) => {
      if (ev.type === 'accept') srv = ev.conn;
      if (ev.type !== 'conn') return;
      if (ev.ev.type === 'error') p.errors[side] ??= [net.now, ev.ev.code];
      if (ev.ev.type === 'readable') {
        let c: Uint8Array | null;
        while ((c = ev.conn.read(net.now))) p.read[side] += c.length;
        h.service(ev.conn);
      }
      if (side === 'client' && (ev.ev.type === 'established' || ev.ev.type === 'writable')) pump();
    };
  }
  p.client = a.connect(SERVER);
  return p;
}

/** Both directions between client and server dropped from `from` for `ms` (forever without `ms`). */
export function blackhole(net: SimNetwork, from: number, ms = Infinity): void {
  const set = (on: boolean): void => net.setLinkBoth(CLIENT.address, SERVER.address, { blackhole: on });
  net.at(from, () => set(true));
  if (ms !== Infinity) net.at(from + ms, () => set(false));
}
