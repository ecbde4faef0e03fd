// LocalEndpoint, a local UDP endpoint carrying many connections: the pump (Host) plus who
// owns each connection (a Socket, the Server's acceptor, or nobody: an
// orphan finishing its close in the background, as the kernel does for TCP).
// It decides when the UDP socket keeps the process alive and when it closes.

import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { constants } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { Host } from '../endpoint/host.js';
import type { EndpointOptions, EndpointStats } from '../endpoint/endpoint.js';
import type { Address, Clock, Env, TimerHandle, Transport } from '../endpoint/types.js';
import { NodeClock } from '../io/node-clock.js';
import { nodeEnv } from '../io/node-env.js';
import { bindUdp } from '../io/bind.js';
import { processOwnerId, UdpTransport, type UdpTransportOptions } from '../io/udp-transport.js';
import type { Connection } from '../protocol/connection.js';
import type { ConnEvent, ConnectionOptions } from '../protocol/options.js';
import { State } from '../protocol/state.js';
import { familyOf, validateConnectionOptions } from './args.js';

export interface LocalEndpointOptions extends EndpointOptions {
  /** Close by itself once no socket, server or connection uses it (default false). */
  autoClose?: boolean;
  /** How long an auto-closing endpoint keeps TIME_WAIT records before closing, ms (default min(2·MSL, 1000)). */
  linger?: number;
  /**
   * Connections whose socket is gone but which still deliver what it wrote (orphans, as the kernel keeps
   * them for TCP), at most this many (default 4096, cf. Linux's tcp_max_orphans). Past either cap the
   * oldest is reset (RST) and counted in `orphanStats.aborted`.
   */
  maxOrphans?: number;
  /** ...and at most this many bytes unacknowledged across them (default 64 MiB). */
  maxOrphanMemory?: number;
  clock?: Clock;
  env?: Env;
}

export interface CreateEndpointOptions extends LocalEndpointOptions {
  /** UDP port to bind (0 or omitted: ephemeral). */
  port?: number;
  /** Local address; default '::' (dual stack), falling back to '0.0.0.0' without IPv6. */
  host?: string;
  exclusive?: boolean;
  /** SO_REUSEPORT: share the port with other processes; connection ids then carry this process's `owner` id (default: processOwnerId(8)). */
  reusePort?: boolean;
  /** With host '::': IPv6 only, no IPv4 (default false: dual stack). */
  ipv6Only?: boolean;
  recvBufferSize?: number;
  sendBufferSize?: number;
  /** Use this transport instead of binding a node:dgram socket (e.g. `SimNetwork.bind(addr)`). */
  transport?: Transport;
}

/** What a connection's owner hears from the endpoint. */
export interface ConnUser {
  onConnEvent(ev: ConnEvent): void;
  /** The endpoint was closed under the connection. */
  onEndpointClosed(): void;
}

export type Acceptor = ((conn: Connection, remote: Address) => void) & { onEndpointClosed?(): void };

/**
 * Endpoints open in this process. When it exits, no kernel ends their connections as it ends a
 * dying process's TCP connections (a FIN, or RST with data unread or unsent), so the exit hook does.
 */
const open = new Set<LocalEndpoint>();
let exitHooked = false;

/**
 * Auto-closing endpoints lingering for their TIME_WAIT records, oldest first. Each keeps a UDP
 * port (a file descriptor) open, which a kernel's TIME_WAIT socket does not: a client closing
 * connections first at 1,500 a second held ~1,900 of them. Past MAX_LINGERING the oldest closes
 * at once, as Linux drops TIME_WAIT sockets past tcp_max_tw_buckets.
 */
const lingering = new Set<LocalEndpoint>();
const MAX_LINGERING = 256;

/** @internal For tests: endpoints lingering now. */
export function lingeringCount(): number {
  return lingering.size;
}
function endAllAtExit(): void {
  for (const ep of open) ep.processExit();
}

/**
 * The signals whose default action ends the process: it dies without 'exit', so they are watched
 * too, while an endpoint is open. When no other listener would keep the process alive (the app's own
 * handler decides, then), the connections end as at exit and the signal is raised again, with the
 * default action restored: the process dies of it as it would have.
 */
const SIGNALS: readonly NodeJS.Signals[] = process.platform === 'win32' ? ['SIGINT', 'SIGTERM'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];
const onSignal = (sig: NodeJS.Signals): void => {
  if (othersHandle(sig)) return;
  endAllAtExit();
  watchSignals(false);
  try {
    process.kill(process.pid, sig);
  } catch {
    process.exit(128 + (constants.signals[sig] ?? 0)); // a runtime that cannot signal itself: the shell's code for it
  }
};
/**
 * Whether a listener other than ours takes `sig`. signal-exit's (v3 and v4, used by many CLI
 * libraries) do not count: like ours, they act only when they are alone, and re-raise the signal;
 * counting them and them counting us, neither would act and the process would live on.
 */
function othersHandle(sig: NodeJS.Signals): boolean {
  let others = process.listenerCount(sig) - 1;
  const g = globalThis as { [k: symbol]: { count?: unknown } | undefined };
  const v4 = g[Symbol.for('signal-exit emitter')]?.count;
  const v3 = (process as { __signal_exit_emitter__?: { count?: unknown } }).__signal_exit_emitter__?.count;
  if (typeof v4 === 'number') others -= v4;
  if (typeof v3 === 'number') others -= v3;
  return others > 0;
}
let signalsWatched = false;
function watchSignals(on: boolean): void {
  if (on === signalsWatched || !isMainThread || typeof process.kill !== 'function') return;
  signalsWatched = on;
  try {
    for (const sig of SIGNALS) {
      if (on) process.on(sig, onSignal);
      else process.removeListener(sig, onSignal);
    }
  } catch {
    // a runtime without these signals: 'exit' still applies
  }
}

let defaultClock: NodeClock | undefined;
let defaultEnv: Env | undefined;

/** The process-wide real randomness: one 4 KiB pool for every endpoint (not one per connect). */
function sharedEnv(): Env {
  return (defaultEnv ??= nodeEnv());
}

/** The process-wide real clock (timers unref'd). */
export function realClock(): Clock {
  return (defaultClock ??= new NodeClock());
}

export class LocalEndpoint extends EventEmitter {
  readonly host: Host;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly autoClose: boolean;
  private readonly users = new Map<Connection, ConnUser>();
  /** Orphans, oldest first: whether its socket was ref'd (it then keeps the process alive while it delivers), and who to tell when it is gone. */
  private readonly orphans = new Map<Connection, { ref: boolean; onGone: ((conn: Connection) => void) | undefined }>();
  /** Ref'd orphans with data or a FIN still unacknowledged. */
  private busyOrphans = new Set<Connection>();
  private orphansAborted = 0;
  private readonly maxOrphans: number;
  private readonly maxOrphanMemory: number;
  private acceptor: Acceptor | null = null;
  private holders = 0;
  private refs = 0;
  private explicitRef = false;
  private isClosed = false;
  private lingerTimer: TimerHandle | null = null;
  /** @internal A server has listened here (its port hears anyone; a connect's own port hears its peers only). */
  listened = false;
  private readonly lingerMs: number;

  constructor(transport: Transport, opts: LocalEndpointOptions = {}) {
    super();
    this.transport = transport;
    this.clock = opts.clock ?? realClock();
    this.autoClose = opts.autoClose ?? false;
    const msl = opts.connection?.msl ?? 30_000;
    this.lingerMs = opts.linger ?? Math.min(2 * msl, 1000);
    this.maxOrphans = opts.maxOrphans ?? 4096;
    this.maxOrphanMemory = opts.maxOrphanMemory ?? 64 << 20;
    this.host = new Host(transport, this.clock, opts.env ?? sharedEnv(), opts);
    this.host.onEvent = (ev) => {
      if (ev.type === 'accept') this.onAccept(ev.conn, ev.remote);
      else if (ev.type === 'timewait-end') this.maybeClose();
      else this.route(ev.conn, ev.ev);
    };
    this.host.onTransportError = (err) => {
      if (!this.isClosed && this.listenerCount('error') > 0) this.emit('error', err);
    };
    this.applyRef();
    open.add(this);
    if (!exitHooked && typeof process.on === 'function') {
      exitHooked = true;
      process.on('exit', endAllAtExit);
    }
    watchSignals(true);
  }

  // ---------------------------------------------------------------- public

  /** The bound address, as node's `address()`: { address, family, port }. */
  address(): AddressInfo {
    const a = this.transport.address();
    return { address: a.address, family: a.family ?? familyOf(a.address) ?? 'IPv4', port: a.port }; // net's key order
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** The core endpoint's counters (datagrams, decode errors, RSTs sent, ...). */
  get stats(): EndpointStats {
    return this.host.endpoint.stats;
  }

  /** Connections in the table (all states but TIME_WAIT). */
  get connectionCount(): number {
    return this.host.endpoint.connectionCount;
  }

  /** Keep the process alive while this endpoint is open (by default only ref'd sockets and servers on it do). */
  ref(): this {
    this.explicitRef = true;
    this.applyRef();
    return this;
  }

  unref(): this {
    this.explicitRef = false;
    this.applyRef();
    return this;
  }

  /** Close the UDP socket now: sockets on it are destroyed (ERR_SOCKET_CLOSED), a server on it closes. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    open.delete(this);
    lingering.delete(this);
    if (open.size === 0) watchSignals(false);
    this.lingerTimer?.cancel();
    this.lingerTimer = null;
    for (const [conn, u] of [...this.users]) {
      u.onEndpointClosed();
      if (conn.state !== State.CLOSED) conn.abort(this.now);
      this.host.endpoint.service(conn, this.now);
    }
    this.acceptor?.onEndpointClosed?.();
    this.acceptor = null;
    for (const [conn, o] of [...this.orphans]) {
      conn.abort(this.now);
      this.host.endpoint.service(conn, this.now);
      o.onGone?.(conn);
    }
    this.orphans.clear();
    this.busyOrphans.clear();
    this.host.flush();
    // Stop taking datagrams now, but let the last segments (FIN, RST) leave before the socket closes.
    this.transport.onMessage = null;
    this.transport.onError = null;
    // Nothing waits to be written (the usual case: the kernel took it all): the port is given back
    // in this call, as closing a TCP socket gives its port back, so a listen() on it may follow.
    if (queuedIn(this.transport) === 0) this.host.close();
    drainThenClose(this.transport, () => {
      this.host.close();
      this.emit('close');
    });
  }

  /**
   * @internal The process is exiting ('exit': nothing asynchronous runs after it). Each connection
   * the app still holds ends as the kernel would end it: RST when received data is unread, else
   * a FIN after what was written, unless some of that cannot be sent now (the window): then RST,
   * as nothing will send it later. Sent now: node:dgram hands a datagram to the OS within send()
   * when nothing waits before it. An orphan still delivering data is reset too: the peer would
   * otherwise hear nothing more and learn of it only from its keepalive, 15 s on.
   */
  processExit(): void {
    if (this.isClosed) return;
    try {
      const now = this.now;
      for (const conn of this.users.keys()) {
        if (conn.state === State.CLOSED || conn.state === State.TIME_WAIT) continue;
        if (conn.readableLength === 0) {
          conn.close(now);
          this.host.endpoint.service(conn, now);
        }
        const st = conn.state as State;
        if (st !== State.CLOSED && st !== State.TIME_WAIT && !conn.finSent) conn.abort(now);
        this.host.endpoint.service(conn, now);
      }
      for (const conn of this.orphans.keys()) {
        if (conn.bufferedAmount === 0 || conn.state === State.CLOSED || conn.state === State.TIME_WAIT) continue;
        conn.abort(now);
        this.host.endpoint.service(conn, now);
      }
      this.host.flush();
    } catch {
      // exiting: nothing more to do
    }
  }

  // ---------------------------------------------------------------- for Socket and Server

  get now(): number {
    return this.clock.now();
  }

  /** @internal Active open to `remote`, owned by `user`. Throws EMFILE when the table is full. */
  open(remote: Address, options: Partial<ConnectionOptions> | undefined, user: ConnUser): Connection {
    const conn = this.host.endpoint.connect(remote, this.now, options);
    this.users.set(conn, user);
    this.host.flush();
    return conn;
  }

  /** @internal Take ownership of an accepted connection. */
  attach(conn: Connection, user: ConnUser): void {
    this.users.set(conn, user);
  }

  /** @internal The remote address of one of our connections. */
  remoteOf(conn: Connection): Address | undefined {
    return this.host.endpoint.remoteOf(conn);
  }

  /**
   * @internal A socket the app holds here is connected (or connecting) to `remote`: for node:net that
   * 4-tuple is taken (a connect to it fails with EADDRNOTAVAIL). Connections are told apart by their
   * ids, not their addresses, so one the app has let go of (still closing) does not count: on
   * loopback the kernel has closed it before 'close' comes.
   */
  talksTo(remote: Address): boolean {
    for (const c of this.users.keys()) {
      if (c.state === State.CLOSED || c.state === State.TIME_WAIT) continue;
      const r = this.remoteOf(c);
      if (r && r.port === remote.port && r.address === remote.address) return true;
    }
    return false;
  }

  /**
   * @internal The owner lets go. 'abort' sends RST; 'close' sends FIN after what is queued and leaves
   * the connection to deliver it in the background (RFC 9293 §3.10.4), as the kernel does for TCP. It
   * lives while the peer acknowledges or answers probes (a zero window is flow control, not death),
   * bounded by the retransmission budget, keepalive, `finTimeout` in FIN_WAIT_2, and the orphan caps.
   * Data arriving for it afterwards is answered with RST, as Linux does. `ref`: the owner kept the
   * process alive, so the orphan does too while it has data to deliver (else the process may exit first).
   * Returns whether it goes on as an orphan; `onGone` is called when that ends.
   */
  detach(conn: Connection, how: 'close' | 'abort', ref = false, onGone?: (conn: Connection) => void): boolean {
    let orphaned = false;
    if (!this.users.delete(conn)) return false;
    if (!this.isClosed && conn.state !== State.CLOSED && conn.state !== State.TIME_WAIT) {
      if (how === 'abort' || conn.readableLength > 0) {
        conn.abort(this.now);
        this.host.endpoint.service(conn, this.now);
      } else {
        conn.close(this.now);
        this.host.endpoint.service(conn, this.now);
        const st = conn.state as State;
        if (st !== State.CLOSED && st !== State.TIME_WAIT) {
          this.orphans.set(conn, { ref, onGone });
          orphaned = true;
          this.orphanBusy(conn);
          this.capOrphans();
        }
      }
      this.host.flush();
    }
    this.maybeClose();
    return orphaned && this.orphans.has(conn);
  }

  /** Orphans now, the bytes they have yet to deliver, and how many were reset past the caps. */
  get orphanStats(): { count: number; bytes: number; aborted: number } {
    let bytes = 0;
    for (const c of this.orphans.keys()) bytes += c.bufferedAmount;
    return { count: this.orphans.size, bytes, aborted: this.orphansAborted };
  }

  /** Track whether a ref'd orphan still has something to deliver; the endpoint's ref follows. */
  private orphanBusy(conn: Connection): void {
    const busy = this.orphans.get(conn)?.ref === true && conn.unacknowledged && conn.state !== State.CLOSED;
    if (busy === this.busyOrphans.has(conn)) {
      if (busy) conn.notifyWhenAcked();
      return;
    }
    if (busy) {
      this.busyOrphans.add(conn);
      conn.notifyWhenAcked();
    } else {
      this.busyOrphans.delete(conn);
    }
    this.applyRef();
  }

  /** Past `maxOrphans` or `maxOrphanMemory`, reset the oldest (as Linux past tcp_max_orphans). */
  private capOrphans(): void {
    let bytes = this.orphanStats.bytes;
    if (this.orphans.size <= this.maxOrphans && bytes <= this.maxOrphanMemory) return;
    for (const conn of [...this.orphans.keys()]) {
      if (this.orphans.size <= this.maxOrphans && bytes <= this.maxOrphanMemory) break;
      bytes -= conn.bufferedAmount;
      this.orphansAborted++;
      this.dropOrphan(conn);
      conn.abort(this.now);
      this.host.service(conn);
    }
  }

  private dropOrphan(conn: Connection): void {
    const o = this.orphans.get(conn);
    this.orphans.delete(conn);
    if (this.busyOrphans.delete(conn)) this.applyRef();
    o?.onGone?.(conn);
  }

  /** @internal A Server takes (or, with null, gives up) the connections the listener accepts. */
  setAcceptor(fn: Acceptor | null, backlog?: number, connection?: Partial<ConnectionOptions>): void {
    this.acceptor = fn;
    if (fn) this.listened = true;
    if (fn) this.host.endpoint.listen(backlog, connection);
    else {
      this.host.endpoint.stopListening();
      this.maybeClose();
    }
  }

  get hasAcceptor(): boolean {
    return this.acceptor !== null;
  }

  /** @internal Something uses this endpoint (a socket or server): it stays open. */
  retain(): void {
    this.holders++;
    // An auto-closing endpoint lingering for its TIME_WAIT records has a user again (a dial joined it).
    this.lingerTimer?.cancel();
    this.lingerTimer = null;
    lingering.delete(this);
  }

  /** @internal */
  release(): void {
    this.holders--;
    this.maybeClose();
  }

  /** @internal A ref'd socket or server on this endpoint keeps the process alive. */
  addRef(): void {
    this.refs++;
    this.applyRef();
  }

  /** @internal */
  dropRef(): void {
    this.refs--;
    this.applyRef();
  }

  /** @internal After a call on `conn`: send what it queued, hand on its events, re-arm its timer. */
  service(conn: Connection): void {
    if (!this.isClosed) this.host.service(conn);
  }

  // ---------------------------------------------------------------- internals

  private applyRef(): void {
    if (this.isClosed) return;
    const on = this.refs > 0 || this.explicitRef || this.busyOrphans.size > 0;
    if (on) this.transport.ref();
    else this.transport.unref();
    this.host.setRef(on);
  }

  private onAccept(conn: Connection, remote: Address): void {
    if (this.acceptor) this.acceptor(conn, remote);
    else {
      conn.abort(this.now); // handshake finished after the server closed
      this.host.service(conn);
    }
  }

  private route(conn: Connection, ev: ConnEvent): void {
    const u = this.users.get(conn);
    if (u) {
      u.onConnEvent(ev);
      return;
    }
    if (!this.orphans.has(conn)) return; // a passive open not yet accepted
    if (ev.type === 'readable') {
      conn.abort(this.now); // data for a closed socket: RST (RFC 9293 §3.10.7.4 spirit; Linux does this)
      this.host.service(conn);
    }
    if (ev.type === 'closed' || conn.state === State.CLOSED) {
      this.dropOrphan(conn);
      this.maybeClose();
    } else if (ev.type === 'acked' || ev.type === 'finished') {
      this.orphanBusy(conn);
    }
  }

  /** Auto-closing endpoints close once nothing is left on them (TIME_WAIT records linger briefly, unref'd). */
  private maybeClose(): void {
    if (!this.autoClose || this.isClosed) return;
    if (this.holders > 0 || this.users.size > 0 || this.orphans.size > 0 || this.acceptor) return;
    if (this.host.endpoint.connectionCount > 0) return;
    if (this.host.endpoint.timeWaitCount > 0 && this.lingerMs > 0) {
      if (this.lingerTimer) return;
      this.lingerTimer = this.clock.setTimer(this.now + this.lingerMs, () => {
        this.lingerTimer = null;
        this.close();
      });
      lingering.add(this);
      if (lingering.size > MAX_LINGERING) lingering.values().next().value?.close();
      return;
    }
    this.close();
  }
}

/** Datagrams handed to `t` and not yet written to the OS (0 if it cannot say). */
function queuedIn(t: Transport): number {
  return (t as { stats?: { queued?: number } }).stats?.queued ?? 0;
}

/** Close once the transport's send queue is empty (bounded wait): closing drops queued datagrams. */
function drainThenClose(t: Transport, close: () => void, tries = 0): void {
  setImmediate(() => {
    if (queuedIn(t) > 0 && tries < 100) drainThenClose(t, close, tries + 1);
    else close();
  });
}

/**
 * A listen() on `port` (at `host`, or the wildcard): a TCP listen with SO_REUSEADDR binds over the
 * TIME_WAIT and closing sockets a closed server or client leaves. Here those live on the endpoint
 * that held the port, so one of ours there with no server on it, bound to that address, takes the
 * new server (its last connections still finish on it); one at another address that only lingers
 * for TIME_WAIT records lets the port go. Returns the endpoint to listen on, if any.
 */
export function reclaimPort(port: number, host: string | undefined): LocalEndpoint | undefined {
  for (const ep of [...open]) {
    if (!ep.autoClose || ep.closed || ep.hasAcceptor) continue;
    const a = ep.address();
    if (a.port !== port) continue;
    if (ep.listened && (host === undefined ? a.address === '::' || a.address === '0.0.0.0' : a.address === host)) return ep;
    if (lingering.has(ep)) ep.close();
  }
  return undefined;
}

export type BindOptions = Omit<CreateEndpointOptions, 'transport'>;

/** Bind a node:dgram socket and wrap it. Without `host`, tries '::' (dual stack), then '0.0.0.0', as net does. */
export async function bindEndpoint(opts: BindOptions): Promise<LocalEndpoint> {
  const base = bindBase(opts);
  opts = withOwner(opts);
  let transport: Awaited<ReturnType<typeof bindUdp>>;
  if (opts.host !== undefined) {
    transport = await bindUdp({ ...base, address: opts.host });
  } else {
    try {
      transport = await bindUdp({ ...base, address: '::' });
    } catch (err) {
      if (!noSuchFamily(err)) throw err;
      transport = await bindUdp({ ...base, address: '0.0.0.0' });
    }
  }
  return new LocalEndpoint(transport, opts);
}

function bindBase(opts: BindOptions): UdpTransportOptions {
  return {
    port: opts.port ?? 0,
    exclusive: opts.exclusive,
    reusePort: opts.reusePort,
    ipv6Only: opts.ipv6Only,
    recvBufferSize: opts.recvBufferSize,
    sendBufferSize: opts.sendBufferSize,
  };
}

/** With reusePort, connection ids carry this process's owner id unless one was given. */
function withOwner(opts: BindOptions): BindOptions {
  return opts.reusePort === true && opts.owner === undefined ? { ...opts, owner: { bits: 8, id: processOwnerId(8) } } : opts;
}

/** Can't bind this family here: try the other unspecified address, as net does. */
function noSuchFamily(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EAFNOSUPPORT' || code === 'EADDRNOTAVAIL' || code === 'EINVAL';
}

/**
 * bindEndpoint in this call, for an IP literal `host` or none ('::', else '0.0.0.0'), so that
 * `server.listen(0); server.address()` works on the next line as with net. Throws the bind
 * error; null when the runtime does not bind synchronously (use bindEndpoint).
 */
export function bindEndpointSync(opts: BindOptions): LocalEndpoint | null {
  const base = bindBase(opts);
  let transport: UdpTransport | null;
  if (opts.host !== undefined) {
    transport = UdpTransport.bindSync({ ...base, address: opts.host });
  } else {
    try {
      transport = UdpTransport.bindSync({ ...base, address: '::' });
    } catch (err) {
      if (!noSuchFamily(err)) throw err;
      transport = UdpTransport.bindSync({ ...base, address: '0.0.0.0' });
    }
  }
  return transport && new LocalEndpoint(transport, withOwner(opts));
}

/**
 * One local UDP port for many connections: servers can listen on it
 * (`createServer({ endpoint })`) and sockets dial out from it
 * (`connect({ endpoint, port, host })`). With `transport` it is synchronous.
 */
export function createEndpoint(opts: CreateEndpointOptions & { transport: Transport }): LocalEndpoint;
export function createEndpoint(opts?: CreateEndpointOptions): Promise<LocalEndpoint>;
export function createEndpoint(opts: CreateEndpointOptions = {}): LocalEndpoint | Promise<LocalEndpoint> {
  validateConnectionOptions(opts.connection);
  if (opts.transport) return new LocalEndpoint(opts.transport, opts);
  return bindEndpoint(opts);
}
