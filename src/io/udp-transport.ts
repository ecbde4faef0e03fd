// The node:dgram edge: a Transport over one UDP socket. A datagram goes to the
// kernel as soon as it is handed over (one send system call each; Node has no
// sendmmsg), so everything the core produced in one callback leaves in that
// callback, with no extra event-loop hop. Every network failure is loss or an
// onError call, never an exception.
//
// Runs on Node's, Bun's and Deno's node:dgram. Every call below exists in all
// three except getSendQueueCount, which Deno's lacks (its sends complete
// asynchronously, through a promise): there every send carries a completion
// callback and the datagrams whose callback has not come are the queue.
import cluster from 'node:cluster';
import dgram from 'node:dgram';
import dns from 'node:dns';
import { isIP } from 'node:net';
import { checkPortOpen, routeTo } from './reachability.js';
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
  /**
   * SO_REUSEPORT: several sockets (processes) bind the same port and the kernel spreads incoming
   * flows over them by address 4-tuple (Node >= 22.12, Bun). Where the runtime cannot, bind
   * rejects with ENOTSUP. Implies `exclusive` (each process needs its own socket).
   */
  reusePort?: boolean;
  /** Datagrams queued in libuv (kernel buffer full) beyond which send() drops (default 65536). */
  maxQueued?: number;
  /** udp6 only: IPV6_V6ONLY, so an unspecified '::' does not also take IPv4 (default false: dual stack). */
  ipv6Only?: boolean;
}

export interface UdpTransportStats {
  /** Datagrams the kernel accepted (or libuv queued for it). */
  sent: number;
  /** Datagrams received. */
  received: number;
  /** Datagrams from other addresses than the one peer set, ignored. */
  stray: number;
  /** Datagrams lost on the send side: kernel errors, queue overflow, closed socket. */
  sendErrors: number;
  /** Datagrams handed to send() and not yet written to the kernel (libuv's queue while the socket buffer is full). */
  queued: number;
  /** Datagrams whose completion callback is pending (sends to a destination not yet known good). */
  inFlight: number;
}

const DEFAULT_BUFFER = 4 * 1024 * 1024;
const DEFAULT_MAX_QUEUED = 65536;
/** Errors that say something about the peer or path: reported through onError. */
const HARD_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH']);

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * dgram resolves the destination of every unconnected send through `lookup`;
 * dns.lookup answers an IP literal on the next tick (a closure and a tick per
 * datagram). Our destinations are IP literals: answer at once.
 */
function literalLookup(host: string, options: unknown, cb: LookupCallback): void {
  const family = isIP(host);
  if (family !== 0) cb(null, host, family);
  else (dns.lookup as unknown as (h: string, o: unknown, c: LookupCallback) => void)(host, options, cb);
}

export class UdpTransport implements Transport {
  onMessage: ((data: Uint8Array, from: Address) => void) | null = null;
  onError: ((err: NodeJS.ErrnoException, peer?: Address) => void) | null = null;

  private readonly socket: dgram.Socket;
  private local: Address;
  private readonly maxQueued: number;
  private readonly sizes: { recv: number; send: number };
  /** After connectPeer or setPeer: the one address datagrams go to and are heard from. */
  private peer: Address | null = null;
  /** setPeer has named a peer: after one naming a second address, `peer` is null (no filter, as a server's port). */
  private peerNamed = false;
  /** The OS socket is connected to `peer` (connectPeer). */
  private osConnected = false;
  private closed = false;
  private nSent = 0;
  private nReceived = 0;
  private nSendErrors = 0;
  private nStray = 0;
  private nInFlight = 0;
  private nCalls = 0;
  /**
   * libuv's count of datagrams not yet written to the kernel, where the runtime has it.
   * Without it (Deno) every send carries a callback and `nInFlight` is the queue.
   */
  private readonly queueCount: (() => number) | null;
  /**
   * Destinations a send has already reached without error. Sends to them go
   * without a completion callback (each costs a closure and a process.nextTick);
   * the first sends to any other destination carry one, so an unreachable
   * network or host still reaches onError. Keyed by the Address object the core
   * passes (it passes the same object for every segment of a connection).
   */
  private good = new WeakSet<Address>();
  private lastGood: Address | null = null;
  /** The last sender's Address, reused while datagrams keep coming from it (no object per datagram). */
  private lastFrom: Address | null = null;

  private constructor(socket: dgram.Socket, opts: UdpTransportOptions) {
    this.socket = socket;
    this.maxQueued = opts.maxQueued ?? DEFAULT_MAX_QUEUED;
    this.queueCount = typeof socket.getSendQueueCount === 'function' ? () => socket.getSendQueueCount() : null;
    const a = socket.address();
    this.local = { address: a.address, port: a.port, family: a.family as Address['family'] };
    try {
      socket.setRecvBufferSize(opts.recvBufferSize ?? DEFAULT_BUFFER);
    } catch {
      /* capped by OS */
    }
    try {
      socket.setSendBufferSize(opts.sendBufferSize ?? DEFAULT_BUFFER);
    } catch {
      /* capped by OS */
    }
    this.sizes = { recv: safeSize(() => socket.getRecvBufferSize()), send: safeSize(() => socket.getSendBufferSize()) };

    socket.on('message', (msg, rinfo) => {
      this.nReceived++;
      const peer = this.peer;
      if (peer !== null && (rinfo.port !== peer.port || rinfo.address !== peer.address)) {
        this.nStray++; // setPeer: only the peer is heard, as a connected socket's kernel would have it
        return;
      }
      let from = this.lastFrom;
      if (from === null || from.port !== rinfo.port || from.address !== rinfo.address) {
        from = this.lastFrom = { address: rinfo.address, port: rinfo.port, family: rinfo.family as Address['family'] };
      }
      this.onMessage?.(msg, from);
    });
    // Always listening, so an 'error' never crashes the process. On a connected
    // socket, ICMP errors surface here (recvmsg ECONNREFUSED): attribute them to the peer.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (this.closed) return;
      const peer = this.peer && err.code && HARD_ERRORS.has(err.code) ? this.peer : undefined;
      this.onError?.(err, peer);
    });
  }

  /** Create and bind a socket. Rejects with the original errno error (EADDRINUSE, EADDRNOTAVAIL, ENOTSUP, ...). */
  static async bind(opts: UdpTransportOptions = {}): Promise<UdpTransport> {
    if (opts.reusePort === true && !(await reusePortSupported())) {
      throw Object.assign(new Error('reusePort is not supported by this runtime'), { code: 'ENOTSUP', errno: -95, syscall: 'bind' });
    }
    return UdpTransport.bindNow(opts);
  }

  /** @internal bind without the reusePort check. */
  static bindNow(opts: UdpTransportOptions): Promise<UdpTransport> {
    const type = opts.type ?? (opts.address?.includes(':') ? 'udp6' : 'udp4');
    const address = opts.address ?? (type === 'udp6' ? '::' : '0.0.0.0');
    const reusePort = opts.reusePort === true;
    return new Promise((resolve, reject) => {
      let socket: dgram.Socket;
      try {
        const o = { type, ipv6Only: opts.ipv6Only, lookup: literalLookup as unknown as typeof dns.lookup, ...(reusePort ? { reusePort } : {}) };
        socket = dgram.createSocket(o as dgram.SocketOptions);
      } catch (err) {
        reject(err as Error);
        return;
      }
      const onError = (err: Error): void => {
        socket.removeListener('listening', onListening);
        try {
          socket.close();
        } catch {
          /* never bound */
        }
        reject(err);
      };
      const onListening = (): void => {
        socket.removeListener('error', onError);
        resolve(new UdpTransport(socket, opts));
      };
      socket.once('error', onError);
      socket.once('listening', onListening);
      try {
        socket.bind({ port: opts.port ?? 0, address, exclusive: reusePort || (opts.exclusive ?? false) });
      } catch (err) {
        onError(err as Error); // argument validation (bad port, ...)
      }
    });
  }

  /**
   * Bind in this call, as net's listen() binds: node:dgram completes a bind synchronously when
   * its lookup answers at once (`address` an IP literal, as literalLookup answers) and no cluster
   * primary is involved. Throws the errno error (EADDRINUSE, ...); returns null if the bind did
   * not complete within the call (the runtime defers it): bind() asynchronously then.
   */
  static bindSync(opts: UdpTransportOptions & { address: string }): UdpTransport | null {
    if (opts.reusePort === true) return null; // the runtime's support is probed asynchronously
    const type = opts.type ?? (opts.address.includes(':') ? 'udp6' : 'udp4');
    const socket = dgram.createSocket({ type, ipv6Only: opts.ipv6Only, lookup: literalLookup as unknown as typeof dns.lookup });
    let error: Error | null = null;
    let bound = false;
    const onError = (err: Error): void => {
      error = err;
    };
    socket.once('error', onError);
    socket.once('listening', () => (bound = true));
    try {
      socket.bind({ port: opts.port ?? 0, address: opts.address, exclusive: opts.exclusive ?? false });
    } catch (err) {
      error = err as Error;
    }
    if (bound) {
      socket.removeListener('error', onError);
      return new UdpTransport(socket, opts);
    }
    socket.removeAllListeners('listening');
    try {
      socket.close();
    } catch {
      /* never bound */
    }
    if (error) throw error;
    return null;
  }

  /**
   * Connect the socket to one fixed peer (dgram connect): sends to it skip the
   * per-datagram address lookup, the kernel filters incoming datagrams to that
   * peer, and ICMP errors are reported. Afterwards datagrams to any other
   * address are dropped (counted in sendErrors). The kernel then also answers
   * datagrams from any other port of the peer's host with port unreachable: a
   * reliable-dgram peer's reachability check takes that for a dead socket (see setPeer).
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
          this.osConnected = true;
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
   * Talk to `addr` only, with the OS socket left unconnected: datagrams to any other address are
   * dropped (counted in sendErrors), datagrams from any other are ignored (counted in `stray`).
   * Unlike connectPeer, the kernel does not answer datagrams from the peer's host with port
   * unreachable: the peer's reachability check (reachability.ts) sends from another port of that
   * host, and would take a live socket connected to it for a dead one. Resolves as connectPeer:
   * once the OS has a route (else rejects with its error, ENETUNREACH...), with `address()` as
   * concrete as a connected socket's; then asks at once whether the peer's port is open (one 1-byte
   * probe from a throw-away socket), so a closed one reaches onError as ECONNREFUSED. Called again
   * with another address (a second connect from a port the app named), the port talks to anyone.
   */
  async setPeer(addr: Address): Promise<void> {
    if (this.closed) throw Object.assign(new Error('transport closed'), { code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' });
    const peer = { address: addr.address, port: addr.port, family: addr.family };
    const local = await routeTo(peer);
    if (this.closed) return;
    // A second peer (connects from one named port, as net's SO_REUSEADDR allows): no filter from then on.
    if (!this.peerNamed) this.peer = peer;
    else if (this.peer !== null && !sameAddress(this.peer, peer)) this.peer = null;
    this.peerNamed = true;
    if (this.local.address === '0.0.0.0' || this.local.address === '::') this.local = { ...this.local, address: local };
    this.checkReachable(peer);
  }

  /**
   * Send one datagram to `to` now. Ownership of `data` passes to the transport:
   * it is not copied, and when the socket buffer is full libuv keeps it queued
   * and writes it later, so the caller must not modify or reuse it. Never
   * throws; failures are loss.
   */
  send(data: Uint8Array, to: Address): void {
    if (this.closed) {
      this.nSendErrors++;
      return;
    }
    const peer = this.peer;
    if (peer !== null && to !== peer && !sameAddress(peer, to)) {
      this.nSendErrors++; // connected socket: other destinations unreachable
      return;
    }
    const queueCount = this.queueCount;
    const known = queueCount !== null && (to === this.lastGood || this.good.has(to));
    const socket = this.socket;
    // libuv queues a datagram only while the kernel's socket buffer is full: bound that queue (checked every 16th send).
    // Without libuv's count, the datagrams whose callback is pending are the queue (a counter: checked every send).
    if (queueCount === null ? this.nInFlight >= this.maxQueued : (++this.nCalls & 15) === 0 && queueCount() >= this.maxQueued) {
      this.nSendErrors++;
      return;
    }
    try {
      if (known) {
        if (this.osConnected) socket.send(data);
        else socket.send(data, to.port, to.address);
        this.nSent++;
        this.lastGood = to;
      } else {
        this.nInFlight++;
        if (this.osConnected) socket.send(data, this.completion(to));
        else socket.send(data, to.port, to.address, this.completion(to));
      }
    } catch {
      // Synchronous throw: bad port, socket closed. No callback will come.
      if (!known) this.nInFlight--;
      this.nSendErrors++;
    }
  }

  private completion(to: Address): (err: Error | null) => void {
    return (err) => {
      this.nInFlight--;
      if (this.closed && this.queueCount === null) return; // close() counted what was pending as lost
      if (err !== null && this.closed && (err as NodeJS.ErrnoException).code === 'ECANCELED') return; // close() counted it
      if (err === null) {
        this.nSent++;
        if (!this.closed) this.good.add(to);
        return;
      }
      this.nSendErrors++; // EPERM, ENOBUFS, EAGAIN, EMSGSIZE, ECANCELED, EINVAL (wrong family)...: loss
      const code = (err as NodeJS.ErrnoException).code;
      if (!this.closed && code !== undefined && HARD_ERRORS.has(code)) this.onError?.(err, to);
    };
  }

  /**
   * Nothing waits in libuv's queue (the kernel took every datagram at send time, as it does while
   * its buffer has room): dgram then holds no reference to any datagram handed to send().
   */
  released(): boolean {
    if (this.closed) return false;
    if (this.queueCount === null) return this.nInFlight === 0;
    try {
      return this.queueCount() === 0;
    } catch {
      return false;
    }
  }

  get stats(): UdpTransportStats {
    return {
      sent: this.nSent,
      received: this.nReceived,
      stray: this.nStray,
      sendErrors: this.nSendErrors,
      queued: this.closed ? 0 : this.queued(),
      inFlight: this.nInFlight,
    };
  }

  private queued(): number {
    const count = this.queueCount;
    return count === null ? this.nInFlight : safeSize(count);
  }

  /** Effective socket buffer sizes as reported by the OS (Linux reports twice the requested value). */
  bufferSizes(): { recv: number; send: number } {
    return { ...this.sizes };
  }

  address(): Address {
    return { ...this.local };
  }

  /** Connected sockets hear of a closed peer port by themselves; an unconnected one asks (reachability.ts). */
  checkReachable(peer: Address): void {
    if (this.osConnected || this.closed) return;
    checkPortOpen(peer, (err) => {
      if (!this.closed) this.onError?.(err, peer);
    });
  }

  /** Idempotent. Queued datagrams are dropped (counted as sendErrors). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Datagrams libuv still holds (socket buffer full) are cancelled by the close: loss.
    this.nSendErrors += this.queued();
    this.good = new WeakSet();
    this.lastGood = null;
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

let reusePortProbe: Promise<boolean> | undefined;

/**
 * Whether this runtime's node:dgram binds two sockets to one port with `reusePort` (Node >= 22.12
 * and Bun do; Node 20 and Deno 2 accept the option and ignore it, so the second bind fails with
 * EADDRINUSE). Found once per process by trying it on 127.0.0.1.
 */
export function reusePortSupported(): Promise<boolean> {
  return (reusePortProbe ??= (async () => {
    const open: UdpTransport[] = [];
    try {
      const a = await UdpTransport.bindNow({ address: '127.0.0.1', reusePort: true });
      open.push(a);
      open.push(await UdpTransport.bindNow({ address: '127.0.0.1', port: a.address().port, reusePort: true }));
      return true;
    } catch {
      return false;
    } finally {
      for (const t of open) t.close();
    }
  })());
}

/**
 * The owner id a process puts in its connection ids when it shares a port (`reusePort`): the
 * cluster worker's id, else the process id, modulo 2^bits. Siblings must differ here: cluster
 * workers alive together do unless their ids are 2^bits apart; forked processes usually do (pids
 * are handed out in sequence); pass `owner` to createEndpoint to choose it yourself.
 */
export function processOwnerId(bits: number): number {
  const worker = (cluster as { worker?: { id: number } }).worker;
  return (worker !== undefined ? worker.id : process.pid) % 2 ** bits;
}

function safeSize(get: () => number): number {
  try {
    return get();
  } catch {
    return 0;
  }
}
