// The node:dgram edge: a Transport over one UDP socket. Sends are queued and
// flushed once per event-loop turn; every network failure is loss or an
// onError call, never an exception.
import dgram from 'node:dgram';
import { sameAddress, type Address, type Transport } from '../endpoint/types.js';

export interface UdpTransportOptions {
  /** Local port; 0 or omitted = ephemeral. */
  port?: number;
  /** Local address; default '0.0.0.0' (udp4) or '::' (udp6). */
  address?: string;
  /** Inferred from `address` when omitted (contains ':' ⇒ udp6). */
  type?: 'udp4' | 'udp6';
  /** Requested SO_RCVBUF / SO_SNDBUF in bytes (default 4 MiB; the OS may cap it). */
  recvBufferSize?: number;
  sendBufferSize?: number;
  /** Passed to dgram bind (cluster: don't share the handle). */
  exclusive?: boolean;
  /** Datagrams waiting in the JS queue or in flight to the kernel beyond which send() drops (default 65536). */
  maxQueued?: number;
}

export interface UdpTransportStats {
  /** Datagrams the kernel accepted. */
  sent: number;
  /** Datagrams received. */
  received: number;
  /** Datagrams lost on the send side: kernel errors, queue overflow, closed socket. */
  sendErrors: number;
  /** Datagrams handed to send() and not yet completed (JS queue + in flight). */
  queued: number;
  /** Of those, datagrams passed to the kernel whose completion callback is pending. */
  inFlight: number;
}

const DEFAULT_BUFFER = 4 * 1024 * 1024;
const DEFAULT_MAX_QUEUED = 65536;
/** Errors that say something about the peer or path: reported through onError. */
const HARD_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH']);

type SendCallback = (err: Error | null) => void;

export class UdpTransport implements Transport {
  onMessage: ((data: Uint8Array, from: Address) => void) | null = null;
  onError: ((err: NodeJS.ErrnoException, peer?: Address) => void) | null = null;

  private readonly socket: dgram.Socket;
  private local: Address;
  private readonly maxQueued: number;
  private readonly sizes: { recv: number; send: number };
  // Two parallel arrays rather than an array of pairs: no allocation per send.
  private qData: Uint8Array[] = [];
  private qTo: Address[] = [];
  private flushScheduled: ReturnType<typeof setImmediate> | null = null;
  private peer: Address | null = null;
  private closed = false;
  private nSent = 0;
  private nReceived = 0;
  private nSendErrors = 0;
  private nInFlight = 0;

  private constructor(socket: dgram.Socket, opts: UdpTransportOptions) {
    this.socket = socket;
    this.maxQueued = opts.maxQueued ?? DEFAULT_MAX_QUEUED;
    const a = socket.address();
    this.local = { address: a.address, port: a.port, family: a.family as Address['family'] };
    try { socket.setRecvBufferSize(opts.recvBufferSize ?? DEFAULT_BUFFER); } catch { /* capped by OS */ }
    try { socket.setSendBufferSize(opts.sendBufferSize ?? DEFAULT_BUFFER); } catch { /* capped by OS */ }
    this.sizes = { recv: safeSize(() => socket.getRecvBufferSize()), send: safeSize(() => socket.getSendBufferSize()) };

    socket.on('message', (msg, rinfo) => {
      this.nReceived++;
      this.onMessage?.(msg, { address: rinfo.address, port: rinfo.port, family: rinfo.family as Address['family'] });
    });
    // Always listening, so an 'error' never crashes the process. On a connected
    // socket, ICMP errors surface here (recvmsg ECONNREFUSED): attribute them to the peer.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (this.closed) return;
      const peer = this.peer && err.code && HARD_ERRORS.has(err.code) ? this.peer : undefined;
      this.onError?.(err, peer);
    });
  }

  /** Create and bind a socket. Rejects with the original errno error (EADDRINUSE, EADDRNOTAVAIL, ...). */
  static bind(opts: UdpTransportOptions = {}): Promise<UdpTransport> {
    const type = opts.type ?? (opts.address?.includes(':') ? 'udp6' : 'udp4');
    const address = opts.address ?? (type === 'udp6' ? '::' : '0.0.0.0');
    return new Promise((resolve, reject) => {
      let socket: dgram.Socket;
      try {
        socket = dgram.createSocket({ type });
      } catch (err) {
        reject(err as Error);
        return;
      }
      const onError = (err: Error): void => {
        socket.removeListener('listening', onListening);
        try { socket.close(); } catch { /* never bound */ }
        reject(err);
      };
      const onListening = (): void => {
        socket.removeListener('error', onError);
        resolve(new UdpTransport(socket, opts));
      };
      socket.once('error', onError);
      socket.once('listening', onListening);
      try {
        socket.bind({ port: opts.port ?? 0, address, exclusive: opts.exclusive ?? false });
      } catch (err) {
        onError(err as Error); // argument validation (bad port, ...)
      }
    });
  }

  /**
   * Connect the socket to one fixed peer (dgram connect): sends to it skip the
   * per-datagram address lookup, the kernel filters incoming datagrams to that
   * peer, and ICMP errors are reported. Afterwards datagrams to any other
   * address are dropped (counted in sendErrors).
   */
  connectPeer(addr: Address): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(Object.assign(new Error('transport closed'), { code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' }));
        return;
      }
      try {
        // With a callback, dgram reports connect failures to it, not as 'error'.
        this.socket.connect(addr.port, addr.address, (err?: Error) => {
          if (err) {
            reject(err);
            return;
          }
          const r = this.socket.remoteAddress();
          this.peer = { address: r.address, port: r.port, family: r.family as Address['family'] };
          const l = this.socket.address(); // connect picked the concrete local address
          this.local = { address: l.address, port: l.port, family: l.family as Address['family'] };
          resolve();
        });
      } catch (err) {
        reject(err as Error); // already connected, bad port...
      }
    });
  }

  /**
   * Queue one datagram for `to`. Ownership of `data` passes to the transport:
   * it is not copied, and the kernel reads it later (after this call returns),
   * so the caller must not modify or reuse it. Never throws; failures are loss.
   */
  send(data: Uint8Array, to: Address): void {
    if (this.closed || this.qData.length + this.nInFlight >= this.maxQueued) {
      this.nSendErrors++;
      return;
    }
    this.qData.push(data);
    this.qTo.push(to);
    // setImmediate rather than queueMicrotask: a microtask flushes after every
    // single callback, so on the receive path (one 'message' callback per
    // datagram, many per poll phase) batches would be of one. setImmediate runs
    // in the check phase right after the poll phase of the same loop iteration
    // (no timer delay), so it gathers everything produced by a whole burst of
    // arrivals and timers, e.g. the ACKs for it, into one tight send loop.
    this.flushScheduled ??= setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.flushScheduled = null;
    const data = this.qData;
    const to = this.qTo;
    this.qData = [];
    this.qTo = [];
    if (this.closed) return;
    const peer = this.peer;
    for (let i = 0; i < data.length; i++) {
      const d = data[i]!;
      const t = to[i]!;
      try {
        if (peer === null) {
          this.nInFlight++;
          this.socket.send(d, t.port, t.address, this.completion(t));
        } else if (sameAddress(peer, t)) {
          this.nInFlight++;
          this.socket.send(d, this.completion(t));
        } else {
          this.nSendErrors++; // connected socket: other destinations unreachable
        }
      } catch {
        // Synchronous throw: bad port/address, socket closed. No callback will come.
        this.nInFlight--;
        this.nSendErrors++;
      }
    }
  };

  private completion(to: Address): SendCallback {
    return (err) => {
      this.nInFlight--;
      if (err === null) {
        this.nSent++;
        return;
      }
      this.nSendErrors++; // EPERM, ENOBUFS, EAGAIN, EMSGSIZE, ECANCELED...: loss
      const code = (err as NodeJS.ErrnoException).code;
      if (!this.closed && code !== undefined && HARD_ERRORS.has(code)) this.onError?.(err, to);
    };
  }

  get stats(): UdpTransportStats {
    return {
      sent: this.nSent,
      received: this.nReceived,
      sendErrors: this.nSendErrors,
      queued: this.qData.length + this.nInFlight,
      inFlight: this.nInFlight,
    };
  }

  /** Effective socket buffer sizes as reported by the OS (Linux reports twice the requested value). */
  bufferSizes(): { recv: number; send: number } {
    return { ...this.sizes };
  }

  address(): Address {
    return { ...this.local };
  }

  /** Idempotent. Queued datagrams are dropped (counted as sendErrors). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.flushScheduled !== null) clearImmediate(this.flushScheduled);
    this.flushScheduled = null;
    this.nSendErrors += this.qData.length;
    this.qData = [];
    this.qTo = [];
    try { this.socket.close(); } catch { /* already closed */ }
  }

  ref(): void {
    if (!this.closed) this.socket.ref();
  }

  unref(): void {
    if (!this.closed) this.socket.unref();
  }
}

function safeSize(get: () => number): number {
  try {
    return get();
  } catch {
    return 0;
  }
}
