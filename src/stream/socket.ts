// Socket: node:net.Socket over one Connection: its names, defaults, event
// order and error codes. The stream itself (reads, writes, FIN, destroy) is
// ConnStream's (conn-stream.ts); the connect path after the argument checks is
// the Dialer's (dial.ts). Here: connect(), the setters, the accessors.

import { isIP, type AddressInfo } from 'node:net';
import { addAbortSignal, Duplex, type DuplexOptions } from 'node:stream';
import type { Address } from '../endpoint/types.js';
import type { Connection } from '../protocol/connection.js';
import type { ConnErrorCode } from '../protocol/options.js';
import {
  dnsFamily,
  familyOf,
  normalizeArgs,
  rejectPath,
  timerDuration,
  validateConnectionOptions,
  validateFunction,
  validateNumber,
  validatePort,
} from './args.js';
import { ConnHandle } from './conn-handle.js';
import { ConnStream, type WriteCb } from './conn-stream.js';
import { Dialer } from './dial.js';
import {
  endedByPeer,
  errnoException,
  exceptionWithHostPort,
  invalidArgType,
  invalidArgValue,
  invalidIpAddress,
  missingArgs,
  socketClosed,
  socketConnecting,
} from './errors.js';
import { realClock, type LocalEndpoint } from './local-endpoint.js';
import { makeHandle, onreadOption, validateAutoSelectFamily, type SocketHandle } from './net-extras.js';
import type { ConnectOptions, SocketOptions } from './options.js';
import { emptyStats, socketStats, type SocketStats } from './stats.js';

/** @internal How a Server hands an accepted connection to a new Socket. */
export const kAccepted = Symbol('reliable-dgram.accepted');
export interface AcceptedInit {
  ep: LocalEndpoint;
  conn: Connection;
  remote: Address;
  pauseOnCreate: boolean;
  server: unknown;
  onDestroy: () => void;
}

const IS_BUN = typeof (process.versions as { bun?: string }).bun === 'string';

/** net validates `options.host` itself from Node 22 on (checked on 20.20, 22.23 and 24.22). */
const NET_CHECKS_HOST = Number(process.versions.node.split('.')[0]) >= 22;

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface of the same name only adds typed on/once overloads
export class Socket extends ConnStream {
  /** The Server that accepted this socket, else null. */
  server: unknown = null;
  /** The idle timeout set by setTimeout(), undefined if never set. */
  timeout: number | undefined = undefined;
  /** With autoSelectFamily, `ip:port` of each address tried (as net), else undefined. */
  autoSelectFamilyAttemptedAddresses: string[] | undefined = undefined;

  private readonly sockOpts: SocketOptions;
  private peer: AddressInfo | null = null;
  private readonly dialer: Dialer;
  private noDelay: boolean;
  private keepAlive: boolean;
  private keepAliveDelay: number;
  private handle: SocketHandle | null = null;

  constructor(options: SocketOptions = {}) {
    if (options === null || typeof options !== 'object') throw invalidArgType('options', 'Object', options);
    const o = options as SocketOptions & { objectMode?: unknown; readableObjectMode?: unknown; writableObjectMode?: unknown; [kAccepted]?: AcceptedInit };
    if (o.objectMode) throw invalidArgValue('options.objectMode', o.objectMode, 'is not supported');
    if (o.readableObjectMode || o.writableObjectMode) {
      const k = o.readableObjectMode ? 'readableObjectMode' : 'writableObjectMode';
      throw invalidArgValue(`options.${k}`, o[k], 'is not supported');
    }
    if (o.keepAliveInitialDelay !== undefined) validateNumber(o.keepAliveInitialDelay, 'options.keepAliveInitialDelay');
    validateConnectionOptions(o.connection);
    const duplexOpts = {
      allowHalfOpen: Boolean(o.allowHalfOpen),
      emitClose: false, // 'close' comes from _destroy, with hadError, as net does
      autoDestroy: true,
      readable: o.readable,
      writable: o.writable,
      highWaterMark: o.highWaterMark,
      readableHighWaterMark: o.readableHighWaterMark,
      writableHighWaterMark: o.writableHighWaterMark,
    } as DuplexOptions;
    super(duplexOpts, o.clock ?? o.endpoint?.clock ?? o[kAccepted]?.ep.clock ?? realClock(), onreadOption(o.onread));
    this.sockOpts = o;
    this.noDelay = Boolean(o.noDelay);
    this.keepAlive = Boolean(o.keepAlive);
    this.keepAliveDelay = wholeSeconds(o.keepAliveInitialDelay);
    this.dialer = new Dialer(
      {
        connecting: () => this.connecting,
        emit: (event, ...args) => this.emit(event, ...args),
        start: (ep, remote) => this.start(ep, remote),
        abandon: () => this.abandonAttempt(),
        destroy: (err) => this.destroy(err),
        attempted: (list) => (this.autoSelectFamilyAttemptedAddresses = list),
      },
      o,
      this.clock,
    );
    this.on('end', onReadableStreamEnd);
    // After the fields exist: an aborted signal destroys at once (AbortError), as Duplex's own option would.
    if (o.signal !== undefined) addAbortSignal(o.signal, this);

    const acc = o[kAccepted];
    if (acc) {
      this.server = acc.server;
      this.onDestroyHook = acc.onDestroy;
      this.attachEndpoint(acc.ep);
      this.conn = new ConnHandle(acc.conn, acc.ep, this.clock);
      acc.ep.attach(acc.conn, this.user);
      this.peer = addressInfo(acc.remote);
      if (this.noDelay) this.conn.setNoDelay(true);
      if (this.keepAlive) this.applyKeepAlive();
      if (acc.pauseOnCreate)
        (this as { readableFlowing: boolean | null }).readableFlowing = false; // as net's pauseOnCreate
      else if (o.readable !== false) this.read(0);
    }
  }

  // ---------------------------------------------------------------- connect

  connect(options: ConnectOptions, connectListener?: () => void): this;
  connect(port: number | string, host?: string, connectListener?: () => void): this;
  connect(port: number | string, connectListener?: () => void): this;
  connect(...args: unknown[]): this {
    const [options, cb] = normalizeArgs(args);
    if (cb !== null) this.once('connect', cb);
    rejectPath(options);
    if (options.port === undefined) throw missingArgs('options', 'port', 'path');
    if (this.connecting || this.conn) throw socketConnecting();
    if (this.destroyed) {
      if (this.sockOpts.signal?.aborted) return this; // aborted before connecting: the AbortError is on its way
      this.reopen(); // as net: a closed socket can connect again
    }
    const o = options as unknown as ConnectOptions;
    if (o.localAddress && !isIP(o.localAddress)) throw invalidIpAddress(o.localAddress);
    if (o.localPort) validateNumber(o.localPort, 'options.localPort');
    if (typeof o.port !== 'number' && typeof o.port !== 'string') throw invalidArgType('options.port', ['number', 'string'], o.port);
    const port = validatePort(o.port);
    validateAutoSelectFamily(o);
    const host = o.host || 'localhost';
    // Node 20's net lets dns.lookup report it ('hostname'); from Node 22 net checks it itself ('options.host').
    if (typeof host !== 'string') throw invalidArgType(NET_CHECKS_HOST ? 'options.host' : 'hostname', 'string', host);
    const family = dnsFamily(o.family);
    if (o.lookup != null) validateFunction(o.lookup, 'options.lookup');

    this.connecting = true;
    this.touch();
    this.dialer.dial(host, port, family, o);
    return this;
  }

  /** Give up the attempt in progress (its connection and, if its own, its UDP port) for the next address. */
  private abandonAttempt(): void {
    const conn = this.conn;
    const ep = this.ep;
    this.conn = null;
    this.ep = null;
    if (ep) {
      if (conn) ep.detach(conn.conn, 'abort');
      this.releaseEndpoint(ep);
    }
  }

  private start(ep: LocalEndpoint, remote: Address): void {
    this.attachEndpoint(ep);
    const connOpts = { ...this.sockOpts.connection, ...(this.noDelay ? { noDelay: true } : {}) };
    try {
      this.conn = new ConnHandle(ep.open(remote, connOpts, this.user), ep, this.clock);
    } catch (err) {
      this.dialer.failed(err as Error);
    }
  }

  protected override afterConnect(): void {
    const conn = this.conn!;
    this.dialer.connected();
    this.connecting = false;
    this.peer = addressInfo(this.ep!.remoteOf(conn.conn) ?? this.dialer.target!);
    this.touch();
    // As net: the options reach the handle once connected (the stand-in applies them).
    const h = this._handle;
    if (this.noDelay) h?.setNoDelay(true); // (without a handle it went with the connection's options)
    if (this.keepAlive) {
      if (h) h.setKeepAlive(true, this.keepAliveDelay / 1000);
      else this.applyKeepAlive();
    }
    this.emit('connect');
    this.emit('ready');
    if (this.wantRead) this.pull();
    else if (!this.isPaused() && this.readable) this.read(0);
  }

  protected override onConnError(code: ConnErrorCode): void {
    const t = this.dialer.target;
    if (this.connecting && t) this.dialer.failed(exceptionWithHostPort(code, 'connect', t.address, t.port));
    else this.destroy(errnoException(code, 'read'));
  }

  // ---------------------------------------------------------------- net.Socket methods

  protected override stopConnecting(): void {
    this.dialer.cancel();
  }

  /** Back to a fresh, unconnected socket after destroy, for connect() again (net's _undestroy). */
  private reopen(): void {
    (this as unknown as { _undestroy(): void })._undestroy();
    if (Object.hasOwn(this, 'write')) delete (this as { write?: unknown }).write; // writeAfterFIN from the last connection
    this.wantRead = false;
    this.eofPushed = false;
    this.seenLength = 0;
    this.peer = null;
    this.received = 0;
    this.dispatched = 0;
    this.resetOnDestroy = false;
    this.handle = null;
    this.closedStats = null;
    this.draining = null;
    this.autoSelectFamilyAttemptedAddresses = undefined;
  }

  /** Send RST instead of FIN: the peer sees ECONNRESET. */
  resetAndDestroy(): this {
    if (this.conn || this.connecting) {
      if (this.connecting) this.once('connect', () => this.reset());
      else this.reset();
    } else {
      this.destroy(socketClosed());
    }
    return this;
  }

  private reset(): void {
    this.resetOnDestroy = true;
    this.destroy();
  }

  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  /** Idle timeout: 'timeout' after `msecs` without reads or writes (the socket is not destroyed). 0 disables. */
  setTimeout(msecs: number, callback?: () => void): this {
    if (this.destroyed) return this;
    this.timeout = msecs;
    const ms = timerDuration(msecs, 'msecs');
    this.idle.set(ms);
    if (callback !== undefined) validateFunction(callback, 'callback');
    if (ms === 0) {
      if (callback !== undefined) this.removeListener('timeout', callback);
      return this;
    }
    if (callback !== undefined) this.once('timeout', callback);
    return this;
  }

  setNoDelay(noDelay?: boolean): this {
    const enable = noDelay === undefined ? true : Boolean(noDelay);
    if (enable !== this.noDelay) {
      this.noDelay = enable;
      const h = this._handle; // as net, through the handle (a test or library may have wrapped it)
      if (h) h.setNoDelay(enable);
      else this.applyNoDelay(enable);
    }
    return this;
  }

  private applyNoDelay(enable: boolean): void {
    this.noDelay = enable;
    if (this.conn && this.ep) this.conn.setNoDelay(enable);
  }

  setKeepAlive(enable?: boolean, initialDelay?: number): this {
    this.keepAlive = Boolean(enable);
    this.keepAliveDelay = wholeSeconds(initialDelay);
    if (this.conn && !this.connecting) {
      const h = this._handle;
      if (h) h.setKeepAlive(this.keepAlive, this.keepAliveDelay / 1000);
      else this.applyKeepAlive();
    }
    return this;
  }

  private applyKeepAlive(): void {
    // A delay of 0 keeps the core's default idle time (2 h), as the OS does.
    this.conn?.setKeepAlive(this.keepAlive, this.keepAliveDelay);
  }

  /** Keep the process alive while this socket has work in hand (the default; see updateRef). */
  ref(): this {
    this.refed = true;
    this.updateRef();
    return this;
  }

  /** Let the process exit even though this socket is open. */
  unref(): this {
    this.refed = false;
    this.updateRef();
    return this;
  }

  /** The local address: { address, family, port }, or {} when there is none. */
  address(): AddressInfo | Record<string, never> {
    return this.ep && !this.destroyed ? this.ep.address() : {};
  }

  get localAddress(): string | undefined {
    return (this.address() as Partial<AddressInfo>).address;
  }
  get localPort(): number | undefined {
    return (this.address() as Partial<AddressInfo>).port;
  }
  get localFamily(): string | undefined {
    return (this.address() as Partial<AddressInfo>).family;
  }
  get remoteAddress(): string | undefined {
    return this.peer?.address;
  }
  get remotePort(): number | undefined {
    return this.peer?.port;
  }
  get remoteFamily(): string | undefined {
    return this.peer?.family;
  }

  /** The local endpoint this socket runs on (null before connecting and after close). */
  get endpoint(): LocalEndpoint | null {
    return this.ep;
  }

  get bytesRead(): number {
    return this.received;
  }

  /** Bytes taken by the connection plus bytes still queued in the stream, as net counts them. */
  get bytesWritten(): number {
    let n = this.dispatched + (this.pendingWrite?.chunk.byteLength ?? 0) + (this.connectWrite?.byteLength ?? 0);
    const buffered = (this as unknown as { writableBuffer?: Array<{ chunk: unknown; encoding?: BufferEncoding }> }).writableBuffer ?? [];
    for (const el of buffered) {
      n += typeof el.chunk === 'string' ? Buffer.byteLength(el.chunk, el.encoding) : (el.chunk as Uint8Array).byteLength;
    }
    return n;
  }

  /** Deprecated in net; writableLength while there is a connection. */
  get bufferSize(): number | undefined {
    return this.conn || this.connecting ? this.writableLength : undefined;
  }

  /** net's private alias of `connecting`, which some code reads. */
  get _connecting(): boolean {
    return this.connecting;
  }

  /**
   * net's `_handle`: null without a connection, else a stand-in whose setNoDelay/setKeepAlive
   * forward to the socket (code that reaches into the handle for them keeps working). Under Bun,
   * always null: its node:tls takes a socket with a `_handle` for a native one and never shakes hands.
   */
  get _handle(): SocketHandle | null {
    if ((!this.conn && !this.connecting) || IS_BUN) return null;
    return (this.handle ??= makeHandle({
      noDelay: (enable) => this.applyNoDelay(enable),
      keepAlive: (enable, ms) => {
        this.keepAlive = enable;
        this.keepAliveDelay = wholeSeconds(ms);
        if (this.conn && !this.connecting) this.applyKeepAlive();
      },
    }));
  }

  get pending(): boolean {
    return !this.conn || this.connecting;
  }

  get readyState(): 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed' {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable && !this.writable) return 'readOnly';
    if (!this.readable && this.writable) return 'writeOnly';
    return 'closed';
  }

  /**
   * Protocol state and counters of the connection; after close, while it still delivers what was
   * written, and then as they stood at its end; before a connection exists, state CLOSED and zeros.
   */
  getStats(): SocketStats {
    const c = this.conn?.conn ?? this.draining;
    if (c) return socketStats(c);
    return this.closedStats ?? emptyStats();
  }
}

/* eslint-disable @typescript-eslint/no-explicit-any */
type Listener<A extends unknown[]> = (...args: A) => void;
interface SocketEvents {
  close: [hadError: boolean];
  connect: [];
  ready: [];
  data: [data: Buffer];
  end: [];
  drain: [];
  timeout: [];
  error: [err: Error];
  lookup: [err: Error | null, address: string, family: string | number, host: string];
  connectionAttempt: [ip: string, port: number, family: number];
}
// Typed events, as @types/node declares them for net.Socket.
export interface Socket {
  on<K extends keyof SocketEvents>(event: K, listener: Listener<SocketEvents[K]>): this;
  // biome-ignore lint/suspicious/noExplicitAny: as @types/node's EventEmitter listener type
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  once<K extends keyof SocketEvents>(event: K, listener: Listener<SocketEvents[K]>): this;
  // biome-ignore lint/suspicious/noExplicitAny: as @types/node's EventEmitter listener type
  once(event: string | symbol, listener: (...args: any[]) => void): this;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** net passes keepalive delays to the OS in whole seconds. */
function wholeSeconds(ms: number | undefined): number {
  return Math.max(0, ~~((ms ?? 0) / 1000)) * 1000;
}

function addressInfo(a: Address): AddressInfo {
  return { address: a.address, family: a.family ?? familyOf(a.address) ?? 'IPv4', port: a.port }; // net's key order
}

/** As net: with allowHalfOpen false, the peer's FIN ends our side too; a later write is EPIPE. */
function onReadableStreamEnd(this: Socket): void {
  if (!this.allowHalfOpen) this.write = writeAfterFIN as Socket['write'];
}

function writeAfterFIN(this: Socket, chunk: unknown, encoding?: BufferEncoding | WriteCb, cb?: WriteCb): boolean {
  if (!this.writableEnded) return (Duplex.prototype.write as (...a: unknown[]) => boolean).call(this, chunk, encoding, cb);
  if (typeof encoding === 'function') cb = encoding;
  const er = endedByPeer();
  if (typeof cb === 'function') process.nextTick(cb, er);
  this.destroy(er);
  return false;
}

/** node:net's connect / createConnection: a new Socket, connecting. */
export function connect(options: ConnectOptions, connectListener?: () => void): Socket;
export function connect(port: number | string, host?: string, connectListener?: () => void): Socket;
export function connect(port: number | string, connectListener?: () => void): Socket;
export function connect(...args: unknown[]): Socket {
  const [options] = normalizeArgs(args);
  const socket = new Socket(options as SocketOptions);
  if (options.timeout) socket.setTimeout(options.timeout as number);
  return (socket.connect as (...a: unknown[]) => Socket)(...args);
}

export const createConnection = connect;
