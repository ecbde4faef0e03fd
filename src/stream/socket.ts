// Socket: a stream.Duplex over one Connection, with node:net.Socket's names,
// defaults, event order and error codes. Reads are pulled from the connection
// only while the stream wants data, so a paused reader closes the receive
// window; writes complete once the connection's bounded send buffer took them.

import dns from 'node:dns';
import { getDefaultAutoSelectFamily, getDefaultAutoSelectFamilyAttemptTimeout, isIP, type AddressInfo, type LookupFunction } from 'node:net';
import { addAbortSignal, Duplex, type DuplexOptions } from 'node:stream';
import type { Address, Clock } from '../endpoint/types.js';
import { UdpTransport } from '../io/udp-transport.js';
import type { Connection } from '../protocol/connection.js';
import type { ConnEvent, ConnErrorCode } from '../protocol/options.js';
import { State } from '../protocol/state.js';
import {
  dnsFamily, familyOf, normalizeArgs, rejectPath, resolvedConnection, timerDuration, validateConnectionOptions, validateFunction, validateNumber, validatePort,
  type ConnectOptions, type SocketOptions,
} from './args.js';
import { LocalEndpoint, realClock, type ConnUser } from './endpoint.js';
import {
  endedByPeer, errnoException, exceptionWithHostPort, invalidAddressFamily, invalidArgType, invalidArgValue, invalidIpAddress, missingArgs,
  socketClosed, socketClosedBeforeConnection, socketConnecting,
} from './errors.js';
import { AddressAttempts, interleave, type Candidate } from './happy-eyeballs.js';
import { IdleTimer } from './idle-timer.js';
import { deliverOnread, loopbackFor, makeHandle, onreadOption, onreadRoom, validateAutoSelectFamily, type Onread, type SocketHandle } from './net-extras.js';
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

type WriteCb = (err?: Error | null) => void;
const IS_BUN = typeof (process.versions as { bun?: string }).bun === 'string';
const READ_CHUNK = 64 * 1024;

/** net validates `options.host` itself from Node 22 on (checked on 20.20, 22.23 and 24.22). */
const NET_CHECKS_HOST = Number(process.versions.node.split('.')[0]) >= 22;

export class Socket extends Duplex {
  /** True from connect() until 'connect' (or failure). */
  connecting = false;
  /** The Server that accepted this socket, else null. */
  server: unknown = null;
  /** The idle timeout set by setTimeout(), undefined if never set. */
  timeout: number | undefined = undefined;
  /** With autoSelectFamily, `ip:port` of each address tried (as net), else undefined. */
  autoSelectFamilyAttemptedAddresses: string[] | undefined = undefined;

  private readonly sockOpts: SocketOptions;
  private readonly clock: Clock;
  private ep: LocalEndpoint | null = null;
  private conn: Connection | null = null;
  /** getStats() once the socket is destroyed: a snapshot, so the connection (and what was written) is not kept. */
  private closedStats: SocketStats | null = null;
  /** After destroy, the connection while it still delivers what was written (the endpoint holds it too). */
  private draining: Connection | null = null;
  private peer: AddressInfo | null = null;
  private target: Address | null = null;
  private attempt = 0;
  private readonly user: ConnUser;
  private wantRead = false;
  private pulling = false;
  private eofPushed = false;
  private pendingWrite: { chunk: Uint8Array; cb: WriteCb } | null = null;
  private connectWrite: Uint8Array | null = null;
  private dispatched = 0;
  private received = 0;
  private refed = true;
  private refHeld = false;
  private noDelay: boolean;
  private keepAlive: boolean;
  private keepAliveDelay: number;
  private readonly idle: IdleTimer;
  private resetOnDestroy = false;
  private onDestroyHook: (() => void) | null = null;
  private handle: SocketHandle | null = null;
  private eyeballs: AddressAttempts | null = null;
  /** The `onread` option: reads land in the app's buffer and go to its callback instead of 'data'. */
  private readonly onread: Onread | null;

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
    super({
      allowHalfOpen: Boolean(o.allowHalfOpen),
      emitClose: false, // 'close' comes from _destroy, with hadError, as net does
      autoDestroy: true,
      readable: o.readable,
      writable: o.writable,
      highWaterMark: o.highWaterMark,
      readableHighWaterMark: o.readableHighWaterMark,
      writableHighWaterMark: o.writableHighWaterMark,
    } as DuplexOptions);
    this.sockOpts = o;
    this.onread = onreadOption(o.onread);
    this.noDelay = Boolean(o.noDelay);
    this.keepAlive = Boolean(o.keepAlive);
    this.keepAliveDelay = wholeSeconds(o.keepAliveInitialDelay);
    this.clock = o.clock ?? o.endpoint?.clock ?? o[kAccepted]?.ep.clock ?? realClock();
    this.idle = new IdleTimer(this.clock, () => {
      if (!this.destroyed) this.emit('timeout');
    });
    this.user = { onConnEvent: (ev) => this.onConnEvent(ev), onEndpointClosed: () => this.destroy(socketClosed()) };
    this.on('end', onReadableStreamEnd);
    // After the fields exist: an aborted signal destroys at once (AbortError), as Duplex's own option would.
    if (o.signal !== undefined) addAbortSignal(o.signal, this);

    const acc = o[kAccepted];
    if (acc) {
      this.server = acc.server;
      this.onDestroyHook = acc.onDestroy;
      this.attachEndpoint(acc.ep);
      this.conn = acc.conn;
      acc.ep.attach(acc.conn, this.user);
      this.peer = addressInfo(acc.remote);
      if (this.noDelay) acc.conn.setNoDelay(true, this.clock.now());
      if (this.keepAlive) this.applyKeepAlive();
      if (acc.pauseOnCreate) (this as { readableFlowing: boolean | null }).readableFlowing = false; // as net's pauseOnCreate
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
    const attempt = ++this.attempt;
    const ipType = isIP(host);
    if (ipType) {
      process.nextTick(() => {
        if (this.connecting && attempt === this.attempt) this.internalConnect(host, port, ipType, o);
      });
      return this;
    }
    const lookup = o.lookup ?? dns.lookup;
    let hints = o.hints ?? 0;
    if (family !== 4 && family !== 6 && hints === 0) hints = dns.ADDRCONFIG;
    if (family !== 4 && family !== 6 && !o.localAddress && (o.autoSelectFamily ?? getDefaultAutoSelectFamily())) {
      this.lookupAll(lookup, host, port, hints, o, attempt);
      return this;
    }
    lookup(host, { family: family ?? 0, hints }, (err, ip, addressType) => {
      this.emit('lookup', err, ip, addressType, host);
      if (!this.connecting || attempt !== this.attempt) return;
      if (err) process.nextTick(() => this.destroy(err));
      else if (typeof ip !== 'string' || !isIP(ip)) process.nextTick(() => this.destroy(invalidIpAddress(ip)));
      else if (addressType !== 4 && addressType !== 6) process.nextTick(() => this.destroy(invalidAddressFamily(addressType, host, port)));
      else this.internalConnect(ip, port, isIP(ip), o);
    });
    return this;
  }

  /** autoSelectFamily: every address of the name, tried in turn (happy-eyeballs.ts). */
  private lookupAll(lookup: LookupFunction, host: string, port: number, hints: number, o: ConnectOptions, attempt: number): void {
    type Answer = { address?: unknown; family?: unknown };
    const all = lookup as unknown as (h: string, opts: object, cb: (err: Error | null, a: unknown, f?: unknown) => void) => void;
    all(host, { family: 0, hints, all: true }, (err, addresses, fam) => {
      const stale = (): boolean => !this.connecting || attempt !== this.attempt;
      // A lookup that answers with one address although asked for all: take it as that one.
      const answers: Answer[] = err ? [] : Array.isArray(addresses) ? (addresses as Answer[]) : [{ address: addresses, family: fam }];
      if (err) this.emit('lookup', err, undefined, undefined, host);
      if (stale()) return;
      if (err) {
        process.nextTick(() => this.destroy(err));
        return;
      }
      const valid: Candidate[] = [];
      for (const a of answers) {
        this.emit('lookup', null, a.address, a.family, host);
        if (stale()) return;
        if (typeof a.address === 'string' && isIP(a.address) && (a.family === 4 || a.family === 6)) valid.push({ address: a.address, family: a.family });
      }
      if (valid.length === 0) {
        const first = answers[0];
        const bad = typeof first?.address !== 'string' || !isIP(first.address) ? invalidIpAddress(first?.address) : invalidAddressFamily(first.family, host, port);
        process.nextTick(() => this.destroy(bad));
        return;
      }
      const timeout = Math.max(10, o.autoSelectFamilyAttemptTimeout ?? getDefaultAutoSelectFamilyAttemptTimeout());
      const tries = new AddressAttempts(interleave(valid), port, timeout, this.clock, {
        start: (c) => this.internalConnect(c.address, port, c.family, o),
        abandon: () => this.abandonAttempt(),
      });
      this.eyeballs = tries;
      this.autoSelectFamilyAttemptedAddresses = tries.attempted;
      tries.tryNext();
    });
  }

  /** Give up the attempt in progress (its connection and, if its own, its UDP port) for the next address. */
  private abandonAttempt(): void {
    this.attempt++; // binds still in flight for it close their socket
    const conn = this.conn;
    const ep = this.ep;
    this.conn = null;
    this.ep = null;
    this.target = null;
    if (ep) {
      if (conn) ep.detach(conn, 'abort');
      if (this.refHeld) ep.dropRef();
      this.refHeld = false;
      ep.release();
    }
  }

  /** A connect attempt failed: the next address if autoSelectFamily has one, else the socket fails. */
  private connectFailed(err: Error): void {
    const final = this.eyeballs ? this.eyeballs.failed(err) : err;
    if (final) this.destroy(final);
  }

  private internalConnect(ip: string, port: number, addressType: number, o: ConnectOptions): void {
    ip = loopbackFor(ip); // as the kernel connects a TCP socket to 0.0.0.0 / ::
    if (port === 0) {
      // A TCP connect to port 0 is refused by the kernel; net reports it as such.
      this.connectFailed(exceptionWithHostPort('ECONNREFUSED', 'connect', ip, port));
      return;
    }
    const remote: Address = { address: ip, port, family: addressType === 6 ? 'IPv6' : 'IPv4' };
    this.target = remote;
    this.emit('connectionAttempt', ip, port, addressType);
    const shared = this.sockOpts.endpoint;
    const epOpts = { clock: this.clock, env: this.sockOpts.env, autoClose: true, connection: resolvedConnection(this.sockOpts.connection) };
    if (shared) {
      if (shared.closed) this.connectFailed(socketClosed());
      else this.start(shared, remote);
      return;
    }
    if (this.sockOpts.transport) {
      this.start(new LocalEndpoint(this.sockOpts.transport, epOpts), remote);
      return;
    }
    // A dedicated UDP port, like a TCP client's ephemeral port. Connected to the
    // peer, so the kernel reports ICMP port unreachable (→ ECONNREFUSED).
    const attempt = this.attempt;
    const localAddress = o.localAddress || (addressType === 6 ? '::' : '0.0.0.0');
    const localPort = o.localPort ?? 0;
    const stale = (): boolean => !this.connecting || attempt !== this.attempt;
    UdpTransport.bind({ address: localAddress, port: localPort }).then(
      (t) => {
        if (stale()) return t.close();
        t.connectPeer(remote).then(
          () => {
            if (stale()) return t.close();
            this.start(new LocalEndpoint(t, epOpts), remote);
          },
          (err: NodeJS.ErrnoException) => {
            t.close();
            if (!stale()) this.connectFailed(exceptionWithHostPort(err.code ?? 'EINVAL', 'connect', ip, port));
          },
        );
      },
      (err: NodeJS.ErrnoException) => {
        if (!stale()) this.connectFailed(exceptionWithHostPort(err.code ?? 'EINVAL', 'bind', localAddress, localPort));
      },
    );
  }

  private start(ep: LocalEndpoint, remote: Address): void {
    this.attachEndpoint(ep);
    const connOpts = { ...resolvedConnection(this.sockOpts.connection), ...(this.noDelay ? { noDelay: true } : {}) };
    try {
      this.conn = ep.open(remote, connOpts, this.user);
    } catch (err) {
      this.connectFailed(err as Error);
    }
  }

  private attachEndpoint(ep: LocalEndpoint): void {
    this.ep = ep;
    ep.retain();
    this.updateRef();
  }

  /**
   * Keep the process alive while this socket has something to do, as a libuv handle is active: while
   * connecting, while reading (the app wants data and the peer has not ended), and while anything
   * written is unacknowledged (net hands that to the kernel, which outlives the process; here it is
   * this process that must deliver it). A paused socket with a full buffer, or one past EOF, with
   * everything acknowledged, lets the process exit, as net's does.
   */
  private updateRef(): void {
    const ep = this.ep;
    if (!ep) return;
    const conn = this.conn;
    let busy = this.connecting || (this.wantRead && !this.eofPushed) || this.pendingWrite !== null || this.connectWrite !== null;
    if (!busy && conn && conn.unacknowledged) {
      conn.notifyWhenAcked(); // 'acked' will call again
      busy = true;
    }
    const want = this.refed && busy && !this.destroyed;
    if (want === this.refHeld) return;
    this.refHeld = want;
    if (want) ep.addRef();
    else ep.dropRef();
  }

  private afterConnect(): void {
    const conn = this.conn!;
    this.eyeballs?.stop();
    this.eyeballs = null;
    this.connecting = false;
    this.peer = addressInfo(this.ep!.remoteOf(conn) ?? this.target!);
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

  // ---------------------------------------------------------------- events from the connection

  private onConnEvent(ev: ConnEvent): void {
    switch (ev.type) {
      case 'established':
        if (this.connecting) this.afterConnect();
        break;
      case 'readable':
        if (this.wantRead) this.pull();
        break;
      case 'end':
      case 'closed':
        this.pull(); // EOF reaches the stream whether or not the app reads (as net's onStreamRead)
        if (ev.type === 'closed') this.retryWrite();
        break;
      case 'writable':
        this.retryWrite();
        break;
      case 'error':
        this.onConnError(ev.code);
        break;
    }
    this.updateRef();
  }

  private onConnError(code: ConnErrorCode): void {
    const t = this.target;
    if (this.connecting && t) this.connectFailed(exceptionWithHostPort(code, 'connect', t.address, t.port));
    else this.destroy(errnoException(code, 'read'));
  }

  // ---------------------------------------------------------------- Duplex plumbing

  override _read(): void {
    this.wantRead = true;
    if (!this.connecting && this.conn) this.pull();
    else this.updateRef();
  }

  /** Move received bytes into the stream while it wants them; EOF once the peer's FIN is reached. */
  private pull(): void {
    const conn = this.conn;
    if (this.pulling || !conn || this.destroyed) return;
    this.pulling = true;
    let moved = false;
    try {
      // readableLength first: the stream calls _read again after every push (maybeReadMore), mostly with nothing new.
      while (this.wantRead && this.conn === conn && !this.destroyed && conn.readableLength > 0) {
        // Everything contiguous in one chunk (the receiver joins segments), at most readableHighWaterMark.
        const c = conn.read(this.clock.now(), this.onread ? onreadRoom(this.onread) : Math.min(READ_CHUNK, this.readableHighWaterMark || READ_CHUNK));
        if (!c) break;
        moved = true;
        this.received += c.byteLength;
        this.touch();
        // Received payloads are views of node:dgram's Buffers already: no wrapper needed.
        if (this.onread) {
          if (!deliverOnread(this, this.onread, c)) this.wantRead = false;
        } else if (!this.push(Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength))) this.wantRead = false;
      }
      if (!this.eofPushed && this.conn === conn && conn.readableLength === 0 && conn.peerFinished) {
        this.eofPushed = true;
        this.push(null);
        // As net: a paused stream with nothing buffered emits 'end' only from a read().
        this.read(0);
      }
    } finally {
      this.pulling = false;
    }
    if (moved) this.ep?.flush(); // window updates
    this.updateRef();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: WriteCb): void {
    if (this.connecting) {
      // As net: hold the write until 'connect'; fail it if the socket closes first.
      this.connectWrite = chunk;
      const onClose = (): void => {
        this.connectWrite = null;
        cb(socketClosedBeforeConnection());
      };
      this.once('connect', () => {
        this.off('close', onClose);
        this.connectWrite = null;
        this._write(chunk, _encoding, cb);
      });
      this.once('close', onClose);
      return;
    }
    if (!this.conn) {
      cb(socketClosed());
      return;
    }
    this.touch();
    // Most writes fit in the send buffer: hand the chunk over at once, with no pending record.
    const conn = this.conn;
    if (this.pendingWrite === null && conn.state !== State.CLOSED && conn.state !== State.TIME_WAIT) {
      const n = conn.write(chunk, this.clock.now());
      this.dispatched += n;
      this.ep?.flush(); // a reply written from a 'data' handler leaves now (Host.flush, re-entrant)
      this.updateRef();
      if (n === chunk.byteLength) {
        cb();
        return;
      }
      if (this.conn !== conn) {
        cb(socketClosed()); // destroyed by an event the flush delivered: the rest has nowhere to go
        return;
      }
      this.pendingWrite = { chunk: chunk.subarray(n), cb };
      return;
    }
    this.pendingWrite = { chunk, cb };
    this.retryWrite();
  }

  /** Hand the pending chunk to the send buffer; the callback waits for room ('writable'). */
  private retryWrite(): void {
    const p = this.pendingWrite;
    const conn = this.conn;
    if (!p || !conn) return;
    if (conn.state === State.CLOSED || conn.state === State.TIME_WAIT) {
      this.pendingWrite = null;
      p.cb(errnoException('EPIPE', 'write'));
      return;
    }
    const n = conn.write(p.chunk, this.clock.now());
    this.dispatched += n;
    if (n > 0) this.touch();
    this.ep?.flush();
    if (n === p.chunk.byteLength) {
      this.pendingWrite = null;
      p.cb();
    } else {
      p.chunk = p.chunk.subarray(n);
    }
  }

  override _final(cb: WriteCb): void {
    if (this.connecting) {
      this.once('connect', () => this._final(cb));
      return;
    }
    if (!this.conn) {
      cb();
      return;
    }
    this.conn.shutdown(this.clock.now()); // FIN after everything written (RFC 9293 §3.10.4)
    this.ep?.flush();
    this.updateRef();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.connecting = false;
    this.eyeballs?.stop();
    this.eyeballs = null;
    this.attempt++;
    this.idle.clear();
    const p = this.pendingWrite;
    this.pendingWrite = null;
    if (p) process.nextTick(p.cb, err ?? socketClosed());
    const conn = this.conn;
    const ep = this.ep;
    this.conn = null;
    this.ep = null;
    if (conn) this.closedStats = socketStats(conn);
    if (ep) {
      const onGone = (c: Connection): void => {
        if (this.draining !== c) return; // the socket connected again since
        this.draining = null;
        this.closedStats = socketStats(c);
      };
      if (conn && ep.detach(conn, this.resetOnDestroy ? 'abort' : 'close', this.refed, onGone)) this.draining = conn;
      if (this.refHeld) ep.dropRef();
      this.refHeld = false;
      ep.release();
    }
    cb(err);
    // net emits 'close' from the handle's close callback, a later loop phase than 'error'.
    setImmediate(() => this.emit('close', Boolean(err)));
    const hook = this.onDestroyHook;
    this.onDestroyHook = null;
    hook?.();
  }

  // ---------------------------------------------------------------- net.Socket methods

  /** With `onread`, pausing stops the reads (nothing is buffered in the stream), as net's readStop. */
  override pause(): this {
    if (this.onread) {
      this.wantRead = false;
      this.updateRef(); // not reading: as net's readStop, no longer keeps the process alive
    }
    return super.pause();
  }

  override resume(): this {
    super.resume();
    if (this.onread && !this.wantRead && !this.destroyed) {
      this.wantRead = true;
      if (!this.connecting && this.conn) this.pull();
    }
    return this;
  }

  /** Back to a fresh, unconnected socket after destroy, for connect() again (net's _undestroy). */
  private reopen(): void {
    (this as unknown as { _undestroy(): void })._undestroy();
    if (Object.hasOwn(this, 'write')) delete (this as { write?: unknown }).write; // writeAfterFIN from the last connection
    this.wantRead = false;
    this.eofPushed = false;
    this.peer = null;
    this.target = null;
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
    if (this.conn && this.ep) {
      this.conn.setNoDelay(enable, this.clock.now());
      this.ep.flush();
    }
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
    const conn = this.conn as (Connection & { setKeepAlive?: (enable: boolean, idleMs: number, now: number) => void }) | null;
    if (!conn || typeof conn.setKeepAlive !== 'function') return;
    // RFC 9293 §3.8.4 keepalive in the core; a delay of 0 keeps its default idle time (2 h), as the OS does.
    conn.setKeepAlive(this.keepAlive, this.keepAliveDelay, this.clock.now());
    this.ep?.flush();
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
    const c = this.conn ?? this.draining;
    if (c) return socketStats(c);
    return this.closedStats ?? emptyStats();
  }

  private touch(): void {
    this.idle.touch();
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
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  once<K extends keyof SocketEvents>(event: K, listener: Listener<SocketEvents[K]>): this;
  once(event: string | symbol, listener: (...args: any[]) => void): this;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** net passes keepalive delays to the OS in whole seconds. */
function wholeSeconds(ms: number | undefined): number {
  return Math.max(0, ~~((ms ?? 0) / 1000)) * 1000;
}

function addressInfo(a: Address): AddressInfo {
  return { address: a.address, port: a.port, family: a.family ?? familyOf(a.address) ?? 'IPv4' };
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
