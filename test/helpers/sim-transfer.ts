// A bulk transfer on the simulator: two hosts, client → server, `size` bytes written
// as fast as the send buffer takes them, read as they arrive, until `until` (virtual ms).
// Deterministic for a given seed; the tests built on it compare exact figures.

import type { Address } from '../../src/endpoint/types.js';
import type { Connection } from '../../src/protocol/connection.js';
import type { ConnectionOptions } from '../../src/protocol/options.js';
import { SimNetwork, simHost, type LinkOptions } from '../../src/sim/index.js';

export interface SimTransferOptions {
  /** Default `{ delay: [10, 10] }`. */
  link?: Partial<LinkOptions>;
  /** Options for both connections. */
  conn?: Partial<ConnectionOptions>;
  /** Default 1. */
  seed?: number;
  /** Virtual time to run to, ms (default 120 000). */
  until?: number;
  /** Client and server addresses (default 10.0.0.1:1000 and 10.0.0.2:2000). */
  from?: Address;
  to?: Address;
  /**
   * Sees each datagram the client sends, before the network does; true drops it. `i` counts
   * them from 0; `client` is undefined for those sent before connect() returned (the SYN).
   */
  onSend?: (data: Uint8Array, i: number, net: SimNetwork, client: Connection | undefined) => boolean | void;
  /** Called before the client connects: schedule link changes here. */
  onStart?: (net: SimNetwork) => void;
}

export interface SimTransfer {
  net: SimNetwork;
  client: Connection;
  /** Bytes the server read. */
  received: number;
  /** When the server had read `size` bytes, or -1. */
  doneAt: number;
}

/** A bulk transfer of `size` bytes (Infinity: keep the send buffer full until `until`). */
export function simTransfer(size: number, o: SimTransferOptions = {}): SimTransfer {
  const from = o.from ?? { address: '10.0.0.1', port: 1000 };
  const to = o.to ?? { address: '10.0.0.2', port: 2000 };
  const net = new SimNetwork({ seed: o.seed ?? 1, link: o.link ?? { delay: [10, 10] }, trace: false });
  const a = simHost(net, from, { connection: o.conn });
  const b = simHost(net, to, { connection: o.conn });
  b.endpoint.listen();
  const run: SimTransfer = { net, client: undefined as unknown as Connection, received: 0, doneAt: -1 };
  let client: Connection | undefined;
  let i = 0;
  const send = a.transport.send.bind(a.transport);
  a.transport.send = (d, dest) => {
    if (o.onSend?.(d, i++, net, client)) return;
    send(d, dest);
  };
  let server: Connection | undefined;
  b.onEvent = (ev) => {
    if (ev.type === 'accept') server = ev.conn;
    if (ev.type === 'conn' && ev.conn === server && ev.ev.type === 'readable') {
      let c: Uint8Array | null;
      while ((c = server.read(net.now))) run.received += c.length;
      if (run.received >= size && run.doneAt < 0) run.doneAt = net.now;
      b.service(server);
    }
  };
  const chunk = new Uint8Array(64 * 1024);
  let off = 0;
  o.onStart?.(net);
  const c = a.connect(to);
  run.client = client = c;
  const pump = () => {
    while (off < size) {
      const n = c.write(chunk.subarray(0, Math.min(chunk.length, size - off)));
      if (n === 0) break;
      off += n;
    }
    a.service(c);
  };
  a.onEvent = (ev) => {
    if (ev.type !== 'conn' || ev.conn !== c) return;
    if (ev.ev.type === 'established' || ev.ev.type === 'writable') pump();
  };
  net.run({ until: o.until ?? 120_000 });
  return run;
}
