// A local UDP endpoint carrying many connections: the pump (Host) plus who
// owns each connection (a Socket, the Server's acceptor, or nobody: an
// orphan finishing its close in the background, as the kernel does for TCP).
// It decides when the UDP socket keeps the process alive and when it closes.

import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Host } from '../endpoint/host.js';
import type { EndpointOptions, EndpointStats } from '../endpoint/endpoint.js';
import type { Address, Clock, Env, TimerHandle, Transport } from '../endpoint/types.js';
import { NodeClock } from '../io/node-clock.js';
import { nodeEnv } from '../io/node-env.js';
import { UdpTransport, type UdpTransportOptions } from '../io/udp-transport.js';
import type { Connection } from '../protocol/connection.js';
import type { ConnEvent, ConnectionOptions } from '../protocol/options.js';
import { State } from '../protocol/state.js';
import { familyOf, validateConnectionOptions } from './args.js';

export interface LocalEndpointOptions extends EndpointOptions {
  /** Close by itself once no socket, server or connection uses it (default false). */
  autoClose?: boolean;
  /** How long an auto-closing endpoint keeps TIME_WAIT records before closing, ms (default min(2·MSL, 1000)). */
  linger?: number;
  /** A connection whose socket is gone but whose peer never finishes the close is aborted after this, ms (default 60 000, as Linux's tcp_fin_timeout). */
  orphanTimeout?: number;
  clock?: Clock;
  env?: Env;
}

export interface CreateEndpointOptions extends LocalEndpointOptions {
  /** UDP port to bind (0 or omitted: ephemeral). */
  port?: number;
  /** Local address; default '::' (dual stack), falling back to '0.0.0.0' without IPv6. */
  host?: string;
  exclusive?: boolean;
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

let defaultClock: NodeClock | undefined;
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
  private readonly orphans = new Map<Connection, TimerHandle | null>();
  private acceptor: Acceptor | null = null;
  private holders = 0;
  private refs = 0;
  private explicitRef = false;
  private isClosed = false;
  private lingerTimer: TimerHandle | null = null;
  private readonly lingerMs: number;
  private readonly orphanMs: number;

  constructor(transport: Transport, opts: LocalEndpointOptions = {}) {
    super();
    this.transport = transport;
    this.clock = opts.clock ?? realClock();
    this.autoClose = opts.autoClose ?? false;
    const msl = opts.connection?.msl ?? 30_000;
    this.lingerMs = opts.linger ?? Math.min(2 * msl, 1000);
    this.orphanMs = opts.orphanTimeout ?? 60_000;
    this.host = new Host(transport, this.clock, opts.env ?? nodeEnv(), opts);
    this.host.onEvent = (ev) => {
      if (ev.type === 'accept') this.onAccept(ev.conn, ev.remote);
      else if (ev.type === 'timewait-end') this.maybeClose();
      else this.route(ev.conn, ev.ev);
    };
    transport.onError = (err, peer) => {
      if (this.isClosed) return;
      if (peer) {
        // ICMP port unreachable (connected sockets only): fail opens to that peer.
        this.host.endpoint.handleUnreachable(peer, this.clock.now());
        this.host.flush();
      } else if (this.listenerCount('error') > 0) {
        this.emit('error', err);
      }
    };
    this.applyRef();
  }

  // ---------------------------------------------------------------- public

  /** The bound address, as node's `address()`: { address, family, port }. */
  address(): AddressInfo {
    const a = this.transport.address();
    return { address: a.address, port: a.port, family: a.family ?? familyOf(a.address) ?? 'IPv4' };
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
    this.lingerTimer?.cancel();
    this.lingerTimer = null;
    for (const [conn, u] of [...this.users]) {
      u.onEndpointClosed();
      if (conn.state !== State.CLOSED) conn.abort(this.now);
    }
    this.acceptor?.onEndpointClosed?.();
    this.acceptor = null;
    for (const [conn, t] of this.orphans) {
      t?.cancel();
      conn.abort(this.now);
    }
    this.orphans.clear();
    this.host.flush();
    // Stop taking datagrams now, but let the last segments (FIN, RST) leave before the socket closes.
    this.transport.onMessage = null;
    this.transport.onError = null;
    drainThenClose(this.transport, () => {
      this.host.close();
      this.emit('close');
    });
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
   * @internal The owner lets go. 'abort' sends RST; 'close' sends FIN after what
   * is queued and leaves the connection to finish in the background (RFC 9293
   * §3.10.4); data arriving for it afterwards is answered with RST, as Linux does.
   */
  detach(conn: Connection, how: 'close' | 'abort'): void {
    if (!this.users.delete(conn)) return;
    if (!this.isClosed && conn.state !== State.CLOSED && conn.state !== State.TIME_WAIT) {
      if (how === 'abort' || conn.readableLength > 0) {
        conn.abort(this.now);
      } else {
        conn.close(this.now);
        const st = conn.state as State;
        if (st !== State.CLOSED && st !== State.TIME_WAIT) {
          const timer = this.clock.setTimer(this.now + this.orphanMs, () => {
            this.orphans.delete(conn);
            if (conn.state !== State.CLOSED) conn.abort(this.now);
            this.host.flush();
            this.maybeClose();
          });
          this.orphans.set(conn, timer);
        }
      }
      this.host.flush();
    }
    this.maybeClose();
  }

  /** @internal A Server takes (or, with null, gives up) the connections the listener accepts. */
  setAcceptor(fn: Acceptor | null, backlog?: number, connection?: Partial<ConnectionOptions>): void {
    this.acceptor = fn;
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

  /** @internal Send what the core queued and re-arm its timer. */
  flush(): void {
    if (!this.isClosed) this.host.flush();
  }

  // ---------------------------------------------------------------- internals

  private applyRef(): void {
    if (this.isClosed) return;
    const on = this.refs > 0 || this.explicitRef;
    if (on) this.transport.ref();
    else this.transport.unref();
    this.host.setRef(on);
  }

  private onAccept(conn: Connection, remote: Address): void {
    if (this.acceptor) this.acceptor(conn, remote);
    else conn.abort(this.now); // handshake finished after the server closed
  }

  private route(conn: Connection, ev: ConnEvent): void {
    const u = this.users.get(conn);
    if (u) {
      u.onConnEvent(ev);
      return;
    }
    if (!this.orphans.has(conn)) return; // a passive open not yet accepted
    if (ev.type === 'readable') conn.abort(this.now); // data for a closed socket: RST (RFC 9293 §3.10.7.4 spirit; Linux does this)
    if (ev.type === 'closed' || conn.state === State.CLOSED) {
      this.orphans.get(conn)?.cancel();
      this.orphans.delete(conn);
      this.maybeClose();
    }
  }

  /** Auto-closing endpoints close once nothing is left on them (TIME_WAIT records linger briefly, unref'd). */
  private maybeClose(): void {
    if (!this.autoClose || this.isClosed) return;
    if (this.holders > 0 || this.users.size > 0 || this.orphans.size > 0 || this.acceptor) return;
    if (this.host.endpoint.connectionCount > 0) return;
    if (this.host.endpoint.timeWaitCount > 0 && this.lingerMs > 0) {
      this.lingerTimer ??= this.clock.setTimer(this.now + this.lingerMs, () => {
        this.lingerTimer = null;
        this.close();
      });
      return;
    }
    this.close();
  }
}

/** Close once the transport's send queue is empty (bounded wait): closing drops queued datagrams. */
function drainThenClose(t: Transport, close: () => void, tries = 0): void {
  setImmediate(() => {
    const queued = (t as { stats?: { queued?: number } }).stats?.queued ?? 0;
    if (queued > 0 && tries < 100) drainThenClose(t, close, tries + 1);
    else close();
  });
}

export type BindOptions = Omit<CreateEndpointOptions, 'transport'>;

/** Bind a node:dgram socket and wrap it. Without `host`, tries '::' (dual stack), then '0.0.0.0', as net does. */
export async function bindEndpoint(opts: BindOptions): Promise<LocalEndpoint> {
  const base = bindBase(opts);
  let transport: UdpTransport;
  if (opts.host !== undefined) {
    transport = await UdpTransport.bind({ ...base, address: opts.host });
  } else {
    try {
      transport = await UdpTransport.bind({ ...base, address: '::' });
    } catch (err) {
      if (!noSuchFamily(err)) throw err;
      transport = await UdpTransport.bind({ ...base, address: '0.0.0.0' });
    }
  }
  return new LocalEndpoint(transport, opts);
}

function bindBase(opts: BindOptions): UdpTransportOptions {
  return { port: opts.port ?? 0, exclusive: opts.exclusive, ipv6Only: opts.ipv6Only, recvBufferSize: opts.recvBufferSize, sendBufferSize: opts.sendBufferSize };
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
  return transport && new LocalEndpoint(transport, opts);
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
