// Drives an Endpoint with a Transport and a Clock: datagrams in, timers fired,
// output flushed, events handed on. It only calls the interfaces it is given,
// so the same code runs on node:dgram with real time and in the simulator.

import type { Connection } from '../protocol/connection.js';
import type { ConnectionOptions } from '../protocol/options.js';
import { Endpoint, type EndpointEvent, type EndpointOptions } from './endpoint.js';
import type { Address, Clock, Env, TimerHandle, Transport } from './types.js';

export class Host {
  readonly endpoint: Endpoint;
  /** Every endpoint event, after the core call that produced it has returned. */
  onEvent: ((ev: EndpointEvent) => void) | null = null;
  /** Observers (tracing, tests) that see every event before `onEvent`. */
  readonly observers: Array<(ev: EndpointEvent) => void> = [];
  /** An error of the socket itself (not one about a peer). */
  onTransportError: ((err: NodeJS.ErrnoException) => void) | null = null;
  private timer: TimerHandle | null = null;
  private timerAt = Infinity;
  private flushing = false;
  private closed = false;
  private refed = false;
  private batchEndPending = false;

  constructor(
    public transport: Transport,
    readonly clock: Clock,
    env: Env,
    opts?: EndpointOptions,
  ) {
    // With a clock that can defer, connections are drained once per batch of datagrams (one ACK covers it).
    this.endpoint = new Endpoint(env, { coalesceAcks: clock.defer !== undefined, ...opts });
    transport.onError = (err, peer) => {
      if (this.closed) return;
      if (!peer) {
        this.onTransportError?.(err);
        return;
      }
      // ICMP port unreachable: fail opens to that peer, and connections whose peer went quiet.
      this.endpoint.handleUnreachable(peer, this.clock.now());
      this.flush();
    };
    transport.onMessage = (data, from) => {
      if (this.closed) return;
      this.endpoint.handleDatagram(data, from, this.clock.now());
      if (this.endpoint.deferredInput) return; // nothing queued, and the batch's end is already due
      this.flush();
      if (!this.batchEndPending && this.endpoint.batchOpen) {
        this.batchEndPending = true;
        this.clock.defer!(() => {
          this.batchEndPending = false;
          if (this.closed) return;
          this.endpoint.endBatch(this.clock.now());
          this.flush();
        });
      }
    };
  }

  /** Move to another transport (a new local address, as after a NAT rebinding); the old one is closed. */
  rebind(transport: Transport): void {
    const old = this.transport;
    transport.onMessage = old.onMessage;
    transport.onError = old.onError;
    old.onMessage = null;
    old.close();
    this.transport = transport;
  }

  get now(): number {
    return this.clock.now();
  }

  connect(remote: Address, options?: Partial<ConnectionOptions>): Connection {
    const conn = this.endpoint.connect(remote, this.clock.now(), options);
    this.flush();
    return conn;
  }

  /** After an app call on `conn`: take its output (`Endpoint.service`), then `flush`. */
  service(conn: Connection): void {
    if (this.closed) return;
    this.endpoint.service(conn, this.clock.now());
    this.flush();
  }

  /** Send what the core queued, hand on its events, re-arm the timer. A re-entrant call sends at once and leaves events to the running one. */
  flush(): void {
    if (this.flushing) {
      // Called from an event handler (a socket's write, read or close): what that call queued
      // leaves now, not after the rest of the handler and the remaining events have run. A reply
      // written from a 'data' handler is on the wire before the handler returns. Order is kept
      // (one queue), and events stay with the outer call, so handlers never nest.
      this.transmit();
      return;
    }
    this.flushing = true;
    try {
      for (;;) {
        let any = this.transmit();
        let ev = this.endpoint.pollEvent();
        while (ev) {
          any = true;
          if (ev.type === 'conn' && ev.ev.type === 'unanswered') this.checkReachable(ev.conn);
          if (this.observers.length > 0) for (const o of this.observers) o(ev);
          this.onEvent?.(ev);
          ev = this.endpoint.pollEvent();
        }
        if (!any) break;
      }
    } finally {
      this.flushing = false;
    }
    this.armTimer();
  }

  private checkReachable(conn: Connection): void {
    const peer = this.transport.checkReachable && this.endpoint.remoteOf(conn);
    if (peer) this.transport.checkReachable!(peer);
  }

  /** Hand every queued datagram to the transport; whether there was any. */
  private transmit(): boolean {
    return this.endpoint.transmitTo(this.transport);
  }

  /** Keep the process alive while timers are pending (real clock only). */
  setRef(ref: boolean): void {
    this.refed = ref;
    if (this.timer) this.clock.setRef?.(this.timer, ref);
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = null;
    this.transport.close();
  }

  private armTimer(): void {
    if (this.closed) return;
    const at = this.endpoint.nextTimeout();
    // A timer already due no later is kept: firing early is harmless (the endpoint re-checks),
    // and re-arming on every ACK that pushes the RTO out would cost more.
    if (this.timer && this.timerAt <= at) return;
    this.timer?.cancel();
    this.timer = null;
    this.timerAt = at;
    if (at === Infinity) return;
    this.timer = this.clock.setTimer(at, () => {
      this.timer = null;
      this.timerAt = Infinity;
      this.endpoint.handleTimeout(this.clock.now());
      this.flush();
    });
    if (this.refed) this.clock.setRef?.(this.timer, true);
  }
}
