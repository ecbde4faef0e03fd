// ConnHandle: a Socket's one way into its core Connection. Each call that may
// queue output (segments, events, a timer) is followed by flush(), the single
// place where the connection is drained (Host.service); writes after the first
// of a JS task share one flush at its end. Thin on purpose: no other state.

import type { Clock } from '../endpoint/types.js';
import type { Connection } from '../protocol/connection.js';
import type { State } from '../protocol/state.js';
import type { LocalEndpoint } from './local-endpoint.js';

/**
 * Settled once: `.then` on it queues a microtask for the cost of one promise reaction. Node's
 * queueMicrotask also builds an AsyncResource and a bound closure, and enters and leaves an async
 * scope, on every call (about 150 bytes and 0.7 µs per write task, measured in a ping-pong).
 */
const settled = Promise.resolve();

export class ConnHandle {
  constructor(
    /** The connection, for its owner (LocalEndpoint.detach, remoteOf) and for stats. */
    readonly conn: Connection,
    private readonly ep: LocalEndpoint,
    private readonly clock: Clock,
  ) {}

  get state(): State {
    return this.conn.state;
  }

  /** Received bytes waiting to be read. */
  get readableLength(): number {
    return this.conn.readableLength;
  }

  /** The largest segment payload in use. */
  get mss(): number {
    return this.conn.mss;
  }

  /** The peer's FIN has been received. */
  get peerFinished(): boolean {
    return this.conn.peerFinished;
  }

  /** Something sent (data or FIN) is not yet acknowledged. */
  get unacknowledged(): boolean {
    return this.conn.unacknowledged;
  }

  /**
   * SEND (RFC 9293 §3.10.2): the bytes taken into the send buffer. The first write of a JS task
   * leaves now (a reply written from a 'data' handler is on the wire before write() returns);
   * later ones in the same task leave together when it ends (a microtask), in full segments,
   * instead of one flush each.
   */
  write(data: Uint8Array): number {
    const n = this.conn.write(data);
    if (n === 0) return 0;
    if (this.inWriteTask) {
      this.flushDue = true;
      return n;
    }
    this.inWriteTask = true;
    settled.then(this.endWriteTask);
    this.flush();
    return n;
  }

  /** RECEIVE (RFC 9293 §3.10.3): up to `max` contiguous bytes; reading may open the window (a window update leaves). */
  read(max: number): Uint8Array | null {
    const c = this.conn.read(this.clock.now(), max);
    this.flush();
    return c;
  }

  /** CLOSE of our direction (RFC 9293 §3.10.4): FIN after everything written. */
  shutdown(): void {
    this.conn.shutdown();
    this.flush();
  }

  setNoDelay(enable: boolean): void {
    this.conn.setNoDelay(enable);
    this.flush();
  }

  /** Keepalive (RFC 9293 §3.8.4); an idle time of 0 keeps the core's default. */
  setKeepAlive(enable: boolean, idleMs: number): void {
    this.conn.setKeepAlive(enable, idleMs, this.clock.now());
    this.flush();
  }

  /** An 'acked' event once everything sent is acknowledged. Only sets a flag: no output, no flush. */
  notifyWhenAcked(): void {
    this.conn.notifyWhenAcked();
  }

  /** Take the connection's output after the call: its segments, events and timer (Host.service; from an event handler it only transmits). */
  private flush(): void {
    this.ep.service(this.conn);
  }

  /** A write has flushed in this JS task; `flushDue`: later ones wait for its end. */
  private inWriteTask = false;
  private flushDue = false;
  private readonly endWriteTask = (): void => {
    this.inWriteTask = false;
    if (!this.flushDue) return;
    this.flushDue = false;
    try {
      this.flush(); // may run the app's event handlers
    } catch (err) {
      // As from queueMicrotask: an uncaught exception, not a rejected promise.
      queueMicrotask(() => {
        throw err;
      });
    }
  };
}
