// ConnStream: the stream.Duplex half of a Socket, over one Connection (through
// its ConnHandle). Reads are pulled from the connection only while the stream
// wants data, so a paused reader closes the receive window; writes complete
// once the connection's bounded send buffer took them; end() sends FIN. It
// holds the socket's claim on its LocalEndpoint (retain, ref, detach on
// destroy). Socket (socket.ts) adds connect() and the rest of net.Socket.

import { Duplex, type DuplexOptions } from 'node:stream';
import type { Clock } from '../endpoint/types.js';
import type { Connection } from '../protocol/connection.js';
import type { ConnEvent, ConnErrorCode } from '../protocol/options.js';
import { State } from '../protocol/state.js';
import type { ConnHandle } from './conn-handle.js';
import { errnoException, socketClosed, socketClosedBeforeConnection } from './errors.js';
import { IdleTimer } from './idle-timer.js';
import type { ConnUser, LocalEndpoint } from './local-endpoint.js';
import { deliverOnread, onreadRoom, type Onread } from './net-extras.js';
import { socketStats, type SocketStats } from './stats.js';

export type WriteCb = (err?: Error | null) => void;
const READ_CHUNK = 64 * 1024;
/** _writev joins buffered chunks up to this many bytes into one write. */
const WRITEV_JOIN = 64 * 1024;

export abstract class ConnStream extends Duplex {
  /** True from connect() until 'connect' (or failure). */
  connecting = false;

  protected readonly clock: Clock;
  protected ep: LocalEndpoint | null = null;
  /** The connection, through the handle that flushes after each call. */
  protected conn: ConnHandle | null = null;
  /** How the endpoint reaches this socket. */
  protected readonly user: ConnUser;
  /** getStats() once the socket is destroyed: a snapshot, so the connection (and what was written) is not kept. */
  protected closedStats: SocketStats | null = null;
  /** After destroy, the connection while it still delivers what was written (the endpoint holds it too). */
  protected draining: Connection | null = null;
  protected wantRead = false;
  private pulling = false;
  private pullDeferred = false;
  /** readableLength when last seen, to tell how much a 'readable' brought. */
  protected seenLength = 0;
  protected eofPushed = false;
  protected pendingWrite: { chunk: Uint8Array; cb: WriteCb } | null = null;
  protected connectWrite: Uint8Array | null = null;
  /** Bytes the connection took. */
  protected dispatched = 0;
  protected received = 0;
  protected refed = true;
  private refHeld = false;
  protected readonly idle: IdleTimer;
  /** Destroy with RST rather than FIN. */
  protected resetOnDestroy = false;
  protected onDestroyHook: (() => void) | null = null;
  /** The `onread` option: reads land in the app's buffer and go to its callback instead of 'data'. */
  protected readonly onread: Onread | null;

  constructor(opts: DuplexOptions, clock: Clock, onread: Onread | null) {
    super(opts);
    this.clock = clock;
    this.onread = onread;
    this.idle = new IdleTimer(clock, () => {
      if (!this.destroyed) this.emit('timeout');
    });
    this.user = { onConnEvent: (ev) => this.onConnEvent(ev), onEndpointClosed: () => this.destroy(socketClosed()) };
  }

  /** 'established' while connecting. */
  protected abstract afterConnect(): void;
  /** The connection failed (ECONNREFUSED, ECONNRESET, ETIMEDOUT, ...). */
  protected abstract onConnError(code: ConnErrorCode): void;
  /** On destroy: whatever connect() has in flight (lookups, binds, address attempts) stops. */
  protected abstract stopConnecting(): void;

  protected attachEndpoint(ep: LocalEndpoint): void {
    this.ep = ep;
    ep.retain();
    this.updateRef();
  }

  /** Let go of the endpoint (after detaching the connection): its ref, then the hold itself. */
  protected releaseEndpoint(ep: LocalEndpoint): void {
    if (this.refHeld) ep.dropRef();
    this.refHeld = false;
    ep.release();
  }

  /**
   * Keep the process alive while this socket has something to do, as a libuv handle is active: while
   * connecting, while reading (the app wants data and the peer has not ended), and while anything
   * written is unacknowledged (net hands that to the kernel, which outlives the process; here it is
   * this process that must deliver it). A paused socket with a full buffer, or one past EOF, with
   * everything acknowledged, lets the process exit, as net's does.
   */
  protected updateRef(): void {
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

  // ---------------------------------------------------------------- events from the connection

  private onConnEvent(ev: ConnEvent): void {
    switch (ev.type) {
      case 'established':
        if (this.connecting) this.afterConnect();
        break;
      case 'readable':
        if (this.wantRead && this.conn) this.onReadable(this.conn);
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
        if (this.wantRead) this.pull(); // what arrived before the error first, as a TCP read returns it before ECONNRESET
        this.onConnError(ev.code);
        break;
    }
    this.updateRef();
  }

  // ---------------------------------------------------------------- Duplex plumbing

  override _read(): void {
    this.wantRead = true;
    if (!this.connecting && this.conn) this.pull();
    else this.updateRef();
  }

  /**
   * Data arrived. A short segment ends a write (where TCP's sender sets PSH): read now, so a lone
   * message is not held. Full segments are read once this turn's datagrams are all in (Clock.defer:
   * the check phase after the I/O callbacks, no timer), so a burst is one chunk, not one per segment.
   */
  private onReadable(conn: ConnHandle): void {
    const grew = conn.readableLength - this.seenLength;
    this.seenLength = conn.readableLength;
    if (grew < conn.mss || !this.clock.defer) {
      this.pull();
      return;
    }
    if (this.pullDeferred) return;
    this.pullDeferred = true;
    this.clock.defer(() => {
      this.pullDeferred = false;
      if (this.wantRead) this.pull();
    });
  }

  /** Move received bytes into the stream while it wants them; EOF once the peer's FIN is reached. */
  protected pull(): void {
    const conn = this.conn;
    if (this.pulling || !conn || this.destroyed) return;
    this.pulling = true;
    try {
      // readableLength first: the stream calls _read again after every push (maybeReadMore), mostly with nothing new.
      while (this.wantRead && this.conn === conn && !this.destroyed && conn.readableLength > 0) {
        // Everything contiguous in one chunk (the receiver joins segments), up to 64 KiB whatever the
        // high-water mark, as net's reads (libuv's 64 KiB read buffer).
        const c = conn.read(this.onread ? onreadRoom(this.onread) : READ_CHUNK);
        if (!c) break;
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
      this.seenLength = conn.readableLength;
    }
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
      const n = conn.write(chunk);
      this.dispatched += n;
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

  /**
   * Chunks the stream buffered (cork(), or writes made while one waited for room) go together, as
   * net's writev: node:http corks a response's head and body, and written one by one the body
   * would wait behind the head under Nagle for the peer's delayed ACK. Up to WRITEV_JOIN bytes are
   * joined into one write; past that each chunk is written in turn (no copy of a large backlog).
   */
  override _writev(chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>, cb: WriteCb): void {
    let total = 0;
    for (const c of chunks) total += c.chunk.byteLength;
    if (chunks.length === 1 || total <= WRITEV_JOIN) {
      const one =
        chunks.length === 1
          ? chunks[0]!.chunk
          : Buffer.concat(
              chunks.map((c) => c.chunk),
              total,
            );
      this._write(one, chunks[0]!.encoding, cb);
      return;
    }
    let i = 0;
    const next = (err?: Error | null): void => {
      if (err || i === chunks.length) cb(err);
      else {
        const c = chunks[i++]!;
        this._write(c.chunk, c.encoding, next);
      }
    };
    next();
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
    const n = conn.write(p.chunk);
    this.dispatched += n;
    if (n > 0) this.touch();
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
    this.conn.shutdown(); // FIN after everything written (RFC 9293 §3.10.4)
    this.updateRef();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.connecting = false;
    this.stopConnecting();
    this.idle.clear();
    const p = this.pendingWrite;
    this.pendingWrite = null;
    if (p) process.nextTick(p.cb, err ?? socketClosed());
    const conn = this.conn;
    const ep = this.ep;
    this.conn = null;
    this.ep = null;
    if (conn) this.closedStats = socketStats(conn.conn);
    if (ep) {
      const onGone = (c: Connection): void => {
        if (this.draining !== c) return; // the socket connected again since
        this.draining = null;
        this.closedStats = socketStats(c);
      };
      if (conn && ep.detach(conn.conn, this.resetOnDestroy ? 'abort' : 'close', this.refed, onGone)) this.draining = conn.conn;
      this.releaseEndpoint(ep);
    }
    cb(err);
    // net emits 'close' from the handle's close callback, a later loop phase than 'error'.
    setImmediate(() => this.emit('close', Boolean(err)));
    const hook = this.onDestroyHook;
    this.onDestroyHook = null;
    hook?.();
  }

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

  protected touch(): void {
    this.idle.touch();
  }
}
