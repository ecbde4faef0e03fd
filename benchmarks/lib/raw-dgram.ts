// The raw node:dgram ceiling: what JavaScript can move over UDP with the least
// work that still survives a full socket buffer. 1200-byte payloads (or another
// size: windowFor keeps the bytes in flight the same) behind a
// 4-byte sequence number, a fixed window of WINDOW datagrams, cumulative ACKs
// from the receiver, go-back-N when the ACK stalls. No congestion control,
// no ordering buffer, no retransmission queue beyond the window.
// With `wire` (dgram-min, the "minimal TCP floor"): our real 32-byte header instead of
// the sequence number, decoded and checked by the receiver, which delivers through a
// stream.Readable; the same window, ACKs and go-back-N. For the ping-pong figure,
// the same header and receive path under a stream.Duplex each way (minListen, minConnect).
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { Duplex, Readable } from 'node:stream';
import { ACK, decodeInto, emptySegment, encodeAt, HEADER_SIZE, type Segment } from '../../src/index.js';
import { HOST, PAYLOAD, SOCK_BUF, pattern } from './common.js';

export const HEADER = 4;
export const WINDOW = 1024;

/** Window in datagrams for `payload`-byte datagrams: WINDOW × PAYLOAD bytes in flight (≈ 1.2 MB), at least 1. */
export function windowFor(payload: number): number {
  return Math.max(1, Math.round((WINDOW * PAYLOAD) / payload));
}
/** Receiver ACKs every ACK_EVERY in-order datagrams, and at the end of each read burst. */
const ACK_EVERY = 64;
const STALL_MS = 50;

export function udpSocket(): Promise<dgram.Socket> {
  return new Promise((res, rej) => {
    const s = dgram.createSocket('udp4');
    s.once('error', rej);
    s.bind(0, HOST, () => {
      s.off('error', rej);
      s.setRecvBufferSize(SOCK_BUF);
      s.setSendBufferSize(SOCK_BUF);
      s.on('error', () => {}); // ICMP errors after the peer left: ignore
      res(s);
    });
  });
}

/** Reply to whoever sent first, through a connected socket once connect completes (no per-send lookup). */
function replier(sock: dgram.Socket): (b: Buffer, to: dgram.RemoteInfo) => void {
  let state: 'none' | 'connecting' | 'connected' = 'none';
  return (b, to) => {
    if (state === 'connected') {
      sock.send(b);
      return;
    }
    sock.send(b, to.port, to.address);
    if (state === 'none') {
      state = 'connecting';
      sock.connect(to.port, to.address, () => {
        state = 'connected';
      });
    }
  };
}

/**
 * Receiver: counts in-order payload bytes, calling `onBytes(n)` for each datagram accepted.
 * `reset()` expects sequence 0 again (the next transfer from the same source socket).
 */
export function dgramSink(sock: dgram.Socket, onBytes: (n: number) => void): { reset(): void } {
  const clock = ackClock(sock);
  sock.on('message', (msg, rinfo) => {
    if (msg.length < HEADER) return;
    const ok = msg.readUInt32BE(0) === clock.next >>> 0;
    if (ok) onBytes(msg.length - HEADER);
    clock.heard(rinfo, ok);
  });
  return clock;
}

/**
 * The sinks' ACK clock: the count of datagrams accepted, sent to the last sender every ACK_EVERY
 * accepted and at the end of each read burst; `atAck` runs after each ACK. `reset()`: from 0 again.
 */
function ackClock(sock: dgram.Socket, atAck?: () => void): { readonly next: number; heard(from: dgram.RemoteInfo, accepted: boolean): void; reset(): void } {
  let next = 0;
  let unacked = 0;
  let scheduled = false;
  let peer: dgram.RemoteInfo | null = null;
  const reply = replier(sock);
  const ack = Buffer.alloc(4);
  const sendAck = (): void => {
    scheduled = false;
    if (!peer) return;
    unacked = 0;
    ack.writeUInt32BE(next >>> 0, 0);
    reply(ack, peer);
    atAck?.();
  };
  return {
    get next() {
      return next;
    },
    heard(from, accepted) {
      peer = from;
      if (accepted) {
        next++;
        if (++unacked >= ACK_EVERY) sendAck();
      }
      if (!scheduled) {
        scheduled = true;
        setImmediate(sendAck);
      }
    },
    reset() {
      next = 0;
      unacked = 0;
    },
  };
}

/** dgram-min's connection ids: the source's segments go from TX_ID to RX_ID. */
const RX_ID = 0x5244_0001;
const TX_ID = 0x5244_0002;
interface MinConn {
  peerId: number;
  /** Next expected byte sequence number (32-bit). */
  rcvNxt: number;
  tsRecent: number;
}

/**
 * dgram-min's receiver: as dgramSink, but each datagram is decoded into one reused Segment,
 * its connection found (one Map.get, srcId checked) and accepted when its seq is the next
 * byte expected. At each ACK point the payloads gathered since the last are joined and
 * pushed into a stream.Readable, whose 'data' listener calls `onBytes`.
 */
export function dgramMinSink(sock: dgram.Socket, onBytes: (n: number) => void): { reset(): void } {
  const conn: MinConn = { peerId: TX_ID, rcvNxt: 0, tsRecent: 0 };
  const conns = new Map<number, MinConn>([[RX_ID, conn]]);
  const seg = emptySegment();
  const readable = new Readable({ read() {} });
  readable.on('data', (d: Buffer) => onBytes(d.length));
  let chunks: Uint8Array[] = [];
  let chunkBytes = 0;
  const clock = ackClock(sock, () => {
    if (chunkBytes === 0) return;
    const c = chunks;
    const n = chunkBytes;
    chunks = [];
    chunkBytes = 0;
    readable.push(c.length === 1 ? c[0]! : Buffer.concat(c, n));
  });
  sock.on('message', (msg: Buffer, rinfo) => {
    if (decodeInto(msg, seg) !== undefined) return;
    const c = conns.get(seg.dstId);
    if (c === undefined || c.peerId !== seg.srcId) return;
    const ok = seg.seq === c.rcvNxt;
    if (ok) {
      const p = seg.payload;
      c.rcvNxt = (c.rcvNxt + p.length) >>> 0;
      c.tsRecent = seg.tsVal;
      chunks.push(p);
      chunkBytes += p.length;
    }
    clock.heard(rinfo, ok);
  });
  return {
    reset() {
      clock.reset();
      conn.rcvNxt = 0;
      conn.tsRecent = 0;
      chunks = [];
      chunkBytes = 0;
    },
  };
}

/** A dgram-min connection behind a stream.Duplex (the ping-pong figure). */
class MinStream {
  rcvNxt = 0;
  /** Our next byte sequence number. */
  sndNxt = 0;
  tsRecent = 0;
  /** Our last datagram: re-sent for a lost ping, or for a lost reply (minReceive). */
  last: Buffer | null = null;
  readonly duplex: Duplex;
  readonly peerId: number;
  private readonly send: (b: Buffer) => void;
  constructor(ids: { local: number; peer: number }, send: (b: Buffer) => void) {
    this.peerId = ids.peer;
    this.send = send;
    const seg = emptySegment();
    seg.flags = ACK;
    seg.dstId = ids.peer;
    seg.srcId = ids.local;
    seg.window = WINDOW * PAYLOAD;
    // write(): our header around the chunk, in a fresh buffer, sent at once.
    this.duplex = new Duplex({
      read() {},
      write: (chunk: Buffer, _enc, cb) => {
        seg.seq = this.sndNxt;
        seg.ack = this.rcvNxt;
        seg.tsVal = Math.floor(performance.now()) >>> 0;
        seg.tsEcr = this.tsRecent;
        seg.payload = chunk;
        const b = Buffer.allocUnsafe(HEADER_SIZE + chunk.length);
        encodeAt(seg, b, 0);
        this.sndNxt = (this.sndNxt + chunk.length) >>> 0;
        this.last = b;
        send(b);
        cb();
      },
    });
  }
  resend(): void {
    if (this.last) this.send(this.last);
  }
}

/**
 * dgram-min's receive path for Duplex connections (as dgramMinSink's): decode into one reused
 * Segment, one Map.get(dstId) and a srcId check, the next in-order bytes accepted and pushed into
 * the connection's Duplex. `open` (the echo side): a datagram for an id with no connection may open
 * one, and a duplicate (an earlier seq: the peer's re-send) re-sends our last datagram, its reply
 * having been lost. Only that side does, or two re-sends would answer each other for ever.
 */
function minReceive(sock: dgram.Socket, conns: Map<number, MinStream>, open?: (seg: Segment, from: dgram.RemoteInfo) => MinStream | undefined): void {
  const seg = emptySegment();
  sock.on('message', (msg: Buffer, rinfo) => {
    if (decodeInto(msg, seg) !== undefined) return;
    const c = conns.get(seg.dstId) ?? open?.(seg, rinfo);
    if (c === undefined || c.peerId !== seg.srcId) return;
    if (seg.seq === c.rcvNxt) {
      const p = seg.payload;
      c.rcvNxt = (c.rcvNxt + p.length) >>> 0;
      c.tsRecent = seg.tsVal;
      if (p.length > 0) c.duplex.push(p);
    } else if (open && ((seg.seq - c.rcvNxt) | 0) < 0) c.resend();
  });
}

/** dgram-min's echo side: the first datagram to RX_ID opens a connection with its sender, whose Duplex goes to `onStream`. */
export function minListen(sock: dgram.Socket, onStream: (d: Duplex) => void): void {
  const conns = new Map<number, MinStream>();
  const reply = replier(sock);
  minReceive(sock, conns, (seg, from) => {
    if (seg.dstId !== RX_ID) return undefined;
    const c = new MinStream({ local: RX_ID, peer: seg.srcId }, (b) => reply(b, from));
    conns.set(RX_ID, c);
    onStream(c.duplex);
    return c;
  });
}

/** dgram-min's client side, on a socket connected to a minListen socket: the Duplex, and resend() for a lost datagram. */
export function minConnect(sock: dgram.Socket): { duplex: Duplex; resend(): void } {
  const c = new MinStream({ local: TX_ID, peer: RX_ID }, (b) => sock.send(b));
  minReceive(sock, new Map([[TX_ID, c]]));
  return c;
}

export function connectTo(sock: dgram.Socket, port: number): Promise<void> {
  return new Promise((res, rej) => sock.connect(port, HOST, (err?: Error) => (err ? rej(err) : res())));
}

/**
 * Sender on a socket connected to the sink: `total` payload bytes (Infinity = until stopped) in `payload`-byte datagrams. Resolves when all are acknowledged.
 * `wire` (dgram-min): each datagram carries our 32-byte header (encodeAt), seq = its byte offset, for dgramMinSink.
 */
export function dgramSource(sock: dgram.Socket, total: number, payload = PAYLOAD, wire = false): { done: Promise<void>; sent: () => number; stop: () => void } {
  const win = windowFor(payload);
  const totalPkts = Number.isFinite(total) ? Math.ceil(total / payload) : Infinity;
  // One buffer per window slot: slot i is rewritten only after seq i-win was acknowledged.
  const body = pattern(payload);
  const hdr = wire ? HEADER_SIZE : HEADER;
  const slots = Array.from({ length: win }, () => {
    const b = Buffer.allocUnsafe(hdr + payload);
    body.copy(b, hdr);
    return b;
  });
  const seg = emptySegment();
  seg.flags = ACK;
  seg.dstId = RX_ID;
  seg.srcId = TX_ID;
  seg.window = win * payload;
  seg.payload = body;
  let acked = 0;
  let nextSeq = 0;
  let lastProgress = acked;
  let stopped = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  const sendRaw = (): void => {
    while (!stopped && nextSeq < acked + win && nextSeq < totalPkts) {
      const b = slots[nextSeq % win]!;
      b.writeUInt32BE(nextSeq >>> 0, 0);
      sock.send(b);
      nextSeq++;
    }
  };
  const sendWire = (): void => {
    while (!stopped && nextSeq < acked + win && nextSeq < totalPkts) {
      const b = slots[nextSeq % win]!;
      seg.seq = (nextSeq * payload) >>> 0;
      seg.tsVal = Math.floor(performance.now()) >>> 0;
      encodeAt(seg, b, 0);
      sock.send(b);
      nextSeq++;
    }
  };
  const sendMore = wire ? sendWire : sendRaw;
  const onAck = (msg: Buffer): void => {
    if (msg.length < 4) return;
    // Unwrap the 32-bit cumulative ACK against our 53-bit counter.
    const a = acked + ((msg.readUInt32BE(0) - (acked >>> 0)) | 0);
    if (a > acked && a <= nextSeq) {
      acked = a;
      if (acked >= totalPkts) {
        finish();
        resolveDone();
        return;
      }
      sendMore();
    }
  };
  // Off the socket once done or stopped: a later transfer on the same socket runs its own source.
  const finish = (): void => {
    stopped = true;
    clearInterval(timer);
    sock.off('message', onAck);
  };
  sock.on('message', onAck);
  const timer = setInterval(() => {
    if (acked === lastProgress && nextSeq > acked) nextSeq = acked; // go-back-N
    lastProgress = acked;
    sendMore();
  }, STALL_MS);
  sendMore();
  return {
    done,
    sent: () => Math.min(acked * payload, Number.isFinite(total) ? total : Infinity),
    stop: finish,
  };
}

/** Echo every datagram back to its sender. */
export function dgramEcho(sock: dgram.Socket): void {
  const reply = replier(sock);
  sock.on('message', (msg, rinfo) => reply(msg, rinfo));
}

/** On a connected socket: `warmup` + `count` round trips of `size` bytes; returns the timed RTTs in µs. */
export function dgramPing(sock: dgram.Socket, size: number, warmup: number, count: number): Promise<number[]> {
  const msg = pattern(size);
  const rtts: number[] = [];
  return new Promise((res) => {
    let i = 0;
    let t = 0n;
    let timer: NodeJS.Timeout;
    const fire = (): void => {
      clearTimeout(timer);
      t = process.hrtime.bigint();
      sock.send(msg);
      timer = setTimeout(fire, 200); // a lost ping (only under netlab) is re-sent
    };
    sock.on('message', () => {
      const dt = Number(process.hrtime.bigint() - t) / 1000;
      if (i++ >= warmup) rtts.push(dt);
      if (i >= warmup + count) {
        clearTimeout(timer);
        res(rtts);
      } else fire();
    });
    fire();
  });
}
