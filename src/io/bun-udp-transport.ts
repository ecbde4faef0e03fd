// Bun's native UDP socket (`Bun.udpSocket`) as a Transport: the datagrams the core
// produces in one synchronous run leave together in one `sendMany` (sendmmsg),
// where node:dgram makes one send call each. bindUdp (./bind.ts) picks it under Bun
// when `Bun.udpSocket` exists (feature-detected); everything else (other runtimes,
// reusePort, which Bun's native socket does not do) stays on node:dgram.
import type { Address, Transport } from '../endpoint/types.js';
import type { UdpTransportOptions, UdpTransportStats } from './udp-transport.js';

/** The part of Bun's UDPSocket used here (Bun 1.1+). */
interface BunUdpSocket {
  readonly port: number;
  readonly address: { address: string; family: string; port: number };
  readonly closed: boolean;
  send(data: Uint8Array, port: number, address: string): boolean;
  /** [data, port, address, data, port, address, ...]: how many datagrams the kernel took. */
  sendMany(packets: ReadonlyArray<Uint8Array | number | string>): number;
  close(): void;
  ref(): void;
  unref(): void;
}

interface BunUdpOptions {
  hostname: string;
  port: number;
  socket: {
    data(socket: BunUdpSocket, data: Uint8Array, port: number, address: string): void;
    drain(socket: BunUdpSocket): void;
    error?(err: Error): void;
  };
}

type BunGlobal = { udpSocket?: (o: BunUdpOptions) => Promise<BunUdpSocket> };

/** Bun's native UDP API, when this runtime has it. */
export function bunUdp(): BunGlobal['udpSocket'] | undefined {
  const bun = (globalThis as { Bun?: BunGlobal }).Bun;
  return typeof bun?.udpSocket === 'function' ? bun.udpSocket.bind(bun) : undefined;
}

const DEFAULT_MAX_QUEUED = 65536;
/** Flush a batch at this many datagrams without waiting for the end of the run. */
const BATCH = 64;

export class BunUdpTransport implements Transport {
  onMessage: ((data: Uint8Array, from: Address) => void) | null = null;
  onError: ((err: NodeJS.ErrnoException, peer?: Address) => void) | null = null;

  private socket!: BunUdpSocket;
  private local: Address = { address: '', port: 0 };
  private readonly maxQueued: number;
  private peer: Address | null = null;
  private closed = false;
  /** Datagrams not yet taken by the kernel, as sendMany wants them: data, port, address, ... */
  private queue: Array<Uint8Array | number | string> = [];
  private flushScheduled = false;
  private nSent = 0;
  private nReceived = 0;
  private nStray = 0;
  private nSendErrors = 0;
  private lastFrom: Address | null = null;

  private constructor(opts: UdpTransportOptions) {
    this.maxQueued = opts.maxQueued ?? DEFAULT_MAX_QUEUED;
  }

  /** Bind `Bun.udpSocket`. Rejects with Bun's error (EADDRINUSE, ...). */
  static async bind(opts: UdpTransportOptions = {}): Promise<BunUdpTransport> {
    const open = bunUdp();
    if (open === undefined) throw Object.assign(new Error('Bun.udpSocket is not available'), { code: 'ENOTSUP' });
    const t = new BunUdpTransport(opts);
    const type = opts.type ?? (opts.address?.includes(':') ? 'udp6' : 'udp4');
    t.socket = await open({
      hostname: opts.address ?? (type === 'udp6' ? '::' : '0.0.0.0'),
      port: opts.port ?? 0,
      socket: {
        data: (_s, data, port, address) => t.onData(data, port, address),
        drain: () => t.flush(),
        error: (err) => {
          if (!t.closed) t.onError?.(err as NodeJS.ErrnoException);
        },
      },
    });
    const a = t.socket.address;
    t.local = { address: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4' };
    return t;
  }

  private onData(data: Uint8Array, port: number, address: string): void {
    this.nReceived++;
    const peer = this.peer;
    if (peer !== null && (port !== peer.port || address !== peer.address)) {
      this.nStray++; // as UdpTransport after connectPeer: only the peer is heard
      return;
    }
    let from = this.lastFrom;
    if (from === null || from.port !== port || from.address !== address) {
      from = this.lastFrom = { address, port, family: address.includes(':') ? 'IPv6' : 'IPv4' };
    }
    this.onMessage?.(data, from);
  }

  /**
   * Only datagrams to `addr` are sent afterwards (others count as send errors), and only datagrams
   * from it are heard (others count as stray). Bun's native
   * socket is not connected at the OS level, so ICMP errors are not reported.
   */
  connectPeer(addr: Address): Promise<void> {
    if (this.closed) return Promise.reject(Object.assign(new Error('transport closed'), { code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' }));
    this.peer = { ...addr };
    return Promise.resolve();
  }

  /** As connectPeer: Bun's socket is never connected at the OS level. */
  setPeer(addr: Address): Promise<void> {
    return this.connectPeer(addr);
  }

  /** Queue one datagram; the batch leaves in one sendMany at the end of this run (or at BATCH). Never throws. */
  send(data: Uint8Array, to: Address): void {
    if (this.closed || (this.peer !== null && (to.port !== this.peer.port || to.address !== this.peer.address))) {
      this.nSendErrors++;
      return;
    }
    const q = this.queue;
    if (q.length / 3 >= this.maxQueued) {
      this.nSendErrors++;
      return;
    }
    q.push(data, to.port, to.address);
    if (q.length >= BATCH * 3) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
  }

  /** Hand the queue to the kernel; what it does not take waits for 'drain'. */
  private flush(): void {
    const q = this.queue;
    if (this.closed || q.length === 0) return;
    let n: number;
    try {
      n = q.length === 3 ? (this.socket.send(q[0] as Uint8Array, q[1] as number, q[2] as string) ? 1 : 0) : this.socket.sendMany(q);
      this.nSent += n;
    } catch {
      // A bad destination (wrong family, ...) fails the whole call: send one by one, dropping the bad ones.
      n = this.sendEach();
    }
    if (n * 3 >= q.length) this.queue = [];
    else this.queue = q.slice(n * 3);
  }

  /** Datagrams consumed from the queue's head: sent, or dropped as errors; stops where the kernel's buffer is full. */
  private sendEach(): number {
    const q = this.queue;
    let consumed = 0;
    for (let i = 0; i < q.length; i += 3) {
      try {
        if (!this.socket.send(q[i] as Uint8Array, q[i + 1] as number, q[i + 2] as string)) break;
        this.nSent++;
      } catch {
        this.nSendErrors++;
      }
      consumed++;
    }
    return consumed;
  }

  /** Everything handed over has been taken by the kernel (flushed now, so the endpoint may reuse its memory). */
  released(): boolean {
    if (this.closed) return false;
    this.flush();
    return this.queue.length === 0;
  }

  get stats(): UdpTransportStats {
    return { sent: this.nSent, received: this.nReceived, stray: this.nStray, sendErrors: this.nSendErrors, queued: this.queue.length / 3, inFlight: 0 };
  }

  /** Bun's native socket does not report its buffer sizes. */
  bufferSizes(): { recv: number; send: number } {
    return { recv: 0, send: 0 };
  }

  address(): Address {
    return { ...this.local };
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.nSendErrors += this.queue.length / 3;
    this.queue = [];
    try {
      this.socket.close();
    } catch {
      /* already closed */
    }
  }

  ref(): void {
    if (!this.closed) this.socket.ref();
  }

  unref(): void {
    if (!this.closed) this.socket.unref();
  }
}
