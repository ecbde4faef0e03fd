// ConnHandle: a Socket's one way into its core Connection. Each call that may
// queue output (segments, events, a timer) is followed by flush(), the single
// place where the connection is drained (Host.service). Thin on purpose: no
// state of its own.

import type { Clock } from '../endpoint/types.js';
import type { Connection } from '../protocol/connection.js';
import type { State } from '../protocol/state.js';
import type { LocalEndpoint } from './local-endpoint.js';

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

  /** SEND (RFC 9293 §3.10.2): the bytes taken into the send buffer. A reply written from a 'data' handler leaves now. */
  write(data: Uint8Array): number {
    const n = this.conn.write(data);
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
}
