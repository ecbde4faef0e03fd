// Helpers for the security tests: a client/server pair on the simulator with a
// checked bidirectional transfer, and segment forging from a live connection.

import { SimNetwork, simHost, type LinkOptions } from '../../src/sim/index.js';
import type { Host } from '../../src/endpoint/host.js';
import type { Address } from '../../src/endpoint/types.js';
import type { EndpointOptions } from '../../src/endpoint/endpoint.js';
import type { Connection } from '../../src/protocol/connection.js';
import type { ConnErrorCode } from '../../src/protocol/options.js';
import { ACK, encode, type Segment } from '../../src/wire/segment.js';

export const CLIENT: Address = { address: '10.0.0.1', port: 1000 };
export const SERVER: Address = { address: '10.0.0.2', port: 2000 };

export function pattern(n: number, salt: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >>> 9) * 17 + salt) & 255;
  return b;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

/** Receives into a growing buffer. */
export class Sink {
  private chunks: Uint8Array[] = [];
  length = 0;
  ended = false;
  take(conn: Connection, now: number): void {
    let c: Uint8Array | null;
    while ((c = conn.read(now))) {
      this.chunks.push(c.slice());
      this.length += c.length;
    }
  }
  bytes(): Uint8Array {
    return Buffer.concat(this.chunks);
  }
}

export interface Side {
  host: Host;
  conn: Connection | undefined;
  sink: Sink;
  errors: ConnErrorCode[];
  states: string[];
  sent: number;
}

export interface Pair {
  net: SimNetwork;
  client: Side;
  server: Side;
  /** Bytes each side writes. */
  up: Uint8Array;
  down: Uint8Array;
}

/**
 * Client uploads `up`, server sends `down`, both half-close when done; data is
 * written as the send buffers allow. Call net.run to drive it.
 */
export function transferPair(o: {
  seed: number;
  up: number;
  down: number;
  link?: Partial<LinkOptions>;
  server?: EndpointOptions;
  client?: EndpointOptions;
  /** Start writing only after this many ms (a window to attack an idle connection). */
  writeDelay?: number;
  /** The client half-closes only after the server's FIN (passive close: CLOSE_WAIT, LAST_ACK). */
  clientClosesLast?: boolean;
}): Pair {
  const net = new SimNetwork({ seed: o.seed, trace: false, link: { delay: [5, 10], ...o.link } });
  const mk = (host: Host): Side => ({ host, conn: undefined, sink: new Sink(), errors: [], states: [], sent: 0 });
  const client = mk(simHost(net, CLIENT, o.client));
  const server = mk(simHost(net, SERVER, o.server));
  server.host.endpoint.listen();
  const up = pattern(o.up, 1);
  const down = pattern(o.down, 2);
  const closesLast = (side: Side): boolean => side === client && o.clientClosesLast === true;
  const pump = (side: Side, data: Uint8Array): void => {
    const c = side.conn;
    if (!c) return;
    while (side.sent < data.length) {
      const n = c.write(data.subarray(side.sent, side.sent + 16384));
      if (n === 0) break;
      side.sent += n;
    }
    if (side.sent === data.length && (!closesLast(side) || side.sink.ended)) c.shutdown();
    side.host.service(c);
  };
  const wire = (side: Side, data: Uint8Array): void => {
    side.host.observers.push((ev) => {
      if (ev.type === 'accept' && !side.conn) side.conn = ev.conn;
      if (ev.type !== 'conn' || ev.conn !== side.conn) return;
      const e = ev.ev;
      if (e.type === 'state') side.states.push(e.to);
      if (e.type === 'established' || e.type === 'writable') {
        if (o.writeDelay) net.after(o.writeDelay, () => pump(side, data));
        else pump(side, data);
      }
      if (e.type === 'readable') side.sink.take(ev.conn, net.now);
      if (e.type === 'end') {
        side.sink.ended = true;
        if (closesLast(side)) pump(side, data);
      }
      if (e.type === 'error') side.errors.push(e.code);
    });
  };
  wire(client, up);
  wire(server, down);
  client.conn = client.host.connect(SERVER);
  return { net, client, server, up, down };
}

/** A segment as `conn`'s peer would send it next: right ids, in-window numbers, a fresh timestamp. */
export function forgeFromPeer(conn: Connection, over: Partial<Segment> = {}): Segment {
  return {
    flags: ACK,
    dstId: conn.localId,
    srcId: conn.remoteId,
    seq: conn.rcvNxt,
    ack: conn.sndNxt,
    window: 65535,
    tsVal: (conn.tsRecentValue + 1000) >>> 0,
    tsEcr: 0,
    payload: new Uint8Array(0),
    ...over,
  };
}

/** Deliver `seg` to `host` as if it came from `from` (source addresses are not authenticated in UDP). */
export function inject(host: Host, seg: Segment | Uint8Array, from: Address): void {
  host.transport.onMessage!(seg instanceof Uint8Array ? seg : encode(seg), from);
}

/** Record every datagram `host` sends. */
export function tapSends(host: Host): Array<{ data: Uint8Array; to: Address }> {
  const out: Array<{ data: Uint8Array; to: Address }> = [];
  const t = host.transport;
  const send = t.send.bind(t);
  t.send = (data, to) => {
    out.push({ data: data.slice(), to: { ...to } });
    send(data, to);
  };
  return out;
}
