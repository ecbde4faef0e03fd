// The raw node:dgram ceiling: what JavaScript can move over UDP with the least
// work that still survives a full socket buffer. 1200-byte payloads (or another
// size: windowFor keeps the bytes in flight the same) behind a
// 4-byte sequence number, a fixed window of WINDOW datagrams, cumulative ACKs
// from the receiver, go-back-N when the ACK stalls. No congestion control,
// no ordering buffer, no retransmission queue beyond the window.
import dgram from 'node:dgram';
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
  };
  sock.on('message', (msg, rinfo) => {
    peer = rinfo;
    if (msg.length < HEADER) return;
    const seq = msg.readUInt32BE(0);
    if (seq === next >>> 0) {
      next++;
      onBytes(msg.length - HEADER);
      if (++unacked >= ACK_EVERY) sendAck();
    }
    if (!scheduled) {
      scheduled = true;
      setImmediate(sendAck);
    }
  });
  return {
    reset() {
      next = 0;
      unacked = 0;
    },
  };
}

export function connectTo(sock: dgram.Socket, port: number): Promise<void> {
  return new Promise((res, rej) => sock.connect(port, HOST, (err?: Error) => (err ? rej(err) : res())));
}

/** Sender on a socket connected to the sink: `total` payload bytes (Infinity = until stopped) in `payload`-byte datagrams. Resolves when all are acknowledged. */
export function dgramSource(sock: dgram.Socket, total: number, payload = PAYLOAD): { done: Promise<void>; sent: () => number; stop: () => void } {
  const win = windowFor(payload);
  const totalPkts = Number.isFinite(total) ? Math.ceil(total / payload) : Infinity;
  // One buffer per window slot: slot i is rewritten only after seq i-win was acknowledged.
  const body = pattern(payload);
  const slots = Array.from({ length: win }, () => {
    const b = Buffer.allocUnsafe(HEADER + payload);
    body.copy(b, HEADER);
    return b;
  });
  let acked = 0;
  let nextSeq = 0;
  let lastProgress = acked;
  let stopped = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  const sendMore = (): void => {
    while (!stopped && nextSeq < acked + win && nextSeq < totalPkts) {
      const b = slots[nextSeq % win]!;
      b.writeUInt32BE(nextSeq >>> 0, 0);
      sock.send(b);
      nextSeq++;
    }
  };
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
