// The transmission control block of RFC 9293 §3.3.1 for one connection: its
// variables (held by the send and receive sides), its output — segments queued
// and built when polled, events, the timer table — and its state changes.
// The events that drive it (RFC 9293 §3.10) are the Connection's (connection.ts).
// Pure: nothing here reads a clock, draws randomness or arms a timer.

import { ACK, MAX_HEADER_SIZE, RST, emptySegment, encodeAt, type Segment } from '../wire/segment.js';
import { seqAdd, seqGt } from '../wire/seq.js';
import type { CongestionController } from './cc/congestion.js';
import { newStats, resolveOptions, type ConnErrorCode, type ConnEvent, type ConnectionOptions } from './options.js';
import type { RttEstimator } from './recovery/rtt.js';
import type { Scoreboard } from './recovery/scoreboard.js';
import { ReceiveSide, type ReceiveHost } from './receive/receive-side.js';
import { Sender } from './send/sender.js';
import type { SenderHost } from './send/send-path.js';
import { isEdge, isSynchronized, State } from './state.js';
import type { TimeWaitRecord } from './timewait.js';

const EMPTY = new Uint8Array(0);
/** A queued segment's flag (beyond the wire's): it carries the SYN options. */
const SYN_OPTIONS = 0x100;
/** How long the peer must have been silent before an ICMP port unreachable ends a synchronized connection, ms. */
export const UNREACHABLE_SILENCE = 1000;

export interface ConnectionInit {
  localId: number;
  /** Initial send sequence number, from the endpoint's keyed generator (RFC 6528). */
  iss: number;
  /** Random offset for our timestamps (RFC 7323 §5.4). */
  tsOffset: number;
  options?: Partial<ConnectionOptions>;
  /** Settings already resolved (`resolveOptions`), shared with other connections; `options` is then ignored. */
  resolved?: Readonly<ConnectionOptions>;
  /**
   * Memory for a read that joins segments (up to the reader's chunk, 64 KiB for a socket), written
   * whole before it is returned: the endpoint passes its environment's uninitialised allocation
   * (zero-filling each one costs more than the copy into it). Default: a zero-filled Uint8Array.
   */
  alloc?: (size: number) => Uint8Array;
}

/**
 * The segment every connection builds its output in, refilled by each `pollSegment`: no object per
 * segment, and none kept per connection.
 */
const OUT: Segment = emptySegment();

export abstract class Tcb implements SenderHost, ReceiveHost {
  /** The options it was made with; never changed after construction (the setters below keep their own fields). */
  readonly opts: Readonly<ConnectionOptions>;
  /** Nagle off (node:net's setNoDelay). */
  noDelay: boolean;
  readonly localId: number;
  remoteId = 0;
  state: State = State.CLOSED;
  /** Opened with connect() (true) or from a listener (false). */
  active = false;
  readonly stats = newStats();

  readonly iss: number;
  irs = 0;
  /** Random offset for our timestamps (RFC 7323 §5.4). */
  protected readonly tsOffset: number;
  /** The send side: SND.UNA, SND.NXT, SND.WND, the send buffer, retransmission and recovery. */
  protected readonly tx: Sender;
  /** The receive side: RCV.NXT, readable bytes, the peer's FIN, ACKs, timestamps. */
  protected readonly rx: ReceiveSide;

  // Timers: absolute ms, Infinity when off (more in `tx` and `rx`).
  protected timeWaitAt = Infinity;
  /** FIN_WAIT_2 of a connection the app closed: when to give up on the peer's FIN. */
  protected finWait2At = Infinity;
  /** The app closed the connection (close(), not shutdown()): nobody reads what arrives. */
  closedByApp = false;

  // Output (docs/ARCHITECTURE.md, "the poll interface"). Segments decided but not yet built, as parallel
  // queues (flags, seq, payload; `raw` for a reply built whole from the segment it answers):
  // `pollSegment` builds each header only when it is taken, from the state at that moment.
  protected qFlags: number[] = [];
  protected qSeq: number[] = [];
  protected qPayload: Array<Uint8Array | undefined> = [];
  protected qRaw: Array<Segment | undefined> = [];
  protected qHead = 0;
  protected qTail = 0;
  /** Input changed what the windows allow: the Sender's `output` runs at the next poll. */
  protected outputDue = false;
  protected events: Array<ConnEvent | undefined> = [];
  protected evHead = 0;
  protected evTail = 0;

  protected tw: TimeWaitRecord | undefined;
  /** The error this connection ended with, if any. */
  error: ConnErrorCode | undefined;
  /** 'established' was emitted (also when the SYN is ACKed after a close moved us to FIN_WAIT_1). */
  protected announced = false;

  constructor(init: ConnectionInit) {
    const opts = init.resolved ?? resolveOptions(init.options);
    this.opts = opts;
    this.noDelay = opts.noDelay;
    this.localId = init.localId;
    this.iss = init.iss >>> 0;
    this.tsOffset = init.tsOffset >>> 0;
    this.rx = new ReceiveSide(this, init.alloc);
    this.tx = new Sender(this);
  }

  // RFC 9293 §3.3.1 sequence variables, and what the sender measures.
  get sndUna(): number {
    return this.tx.sndUna;
  }
  get sndNxt(): number {
    return this.tx.sndNxt;
  }
  get sndWnd(): number {
    return this.tx.sndWnd;
  }
  get rcvNxt(): number {
    return this.rx.rcvNxt;
  }
  /** Effective send MSS: min(ours, the peer's). */
  get mss(): number {
    return this.tx.mss;
  }
  get rtt(): RttEstimator {
    return this.tx.rtt;
  }
  get cc(): CongestionController {
    return this.tx.cc;
  }
  protected get sb(): Scoreboard {
    return this.tx.sb;
  }

  /** Bytes written but not yet acknowledged. */
  get bufferedAmount(): number {
    return this.tx.bufferedAmount;
  }

  /** Our FIN, and so everything written, has been sent (not necessarily acknowledged). */
  get finSent(): boolean {
    return this.tx.finSent;
  }

  /** Data written (or a FIN) is not yet acknowledged. */
  get unacknowledged(): boolean {
    return (
      this.tx.bufferedAmount > 0 ||
      this.tx.sb.length > 0 ||
      (this.tx.finQueued && !this.tx.finAcked && isSynchronized(this.state) && this.state !== State.TIME_WAIT)
    );
  }

  /** Emit 'acked' once nothing written is left unacknowledged. */
  notifyWhenAcked(): void {
    this.tx.notifyAcked = true;
  }

  /** Room left in the send buffer. */
  get writableRoom(): number {
    return this.tx.writableRoom;
  }

  get readableLength(): number {
    return this.rx.rcvBuf.length;
  }

  /** The peer's FIN arrived and every byte before it is readable. */
  get peerFinished(): boolean {
    return this.rx.peerFinReceived;
  }

  /** Past the handshake and not yet closed or in TIME_WAIT. */
  protected get established(): boolean {
    const s = this.state;
    return isSynchronized(s) && s !== State.SYN_RECEIVED && s !== State.TIME_WAIT;
  }

  /** The peer sent a segment stamped `tsVal` on a path we take (for `acceptsFresh`). */
  heardTsVal(tsVal: number): void {
    if (seqGt(tsVal, this.rx.tsNewest)) this.rx.tsNewest = tsVal;
  }

  /** An ACK with the current numbers, not sent: the endpoint adds a path challenge or response (RFC 9000 §8.2). */
  probeSegment(now: number): Segment {
    const rx = this.rx;
    return {
      flags: ACK,
      dstId: this.remoteId,
      srcId: this.localId,
      seq: this.sndNxt,
      ack: rx.rcvNxt,
      window: rx.window,
      tsVal: this.tsNow(now),
      tsEcr: rx.tsRecent,
      payload: EMPTY,
    };
  }

  /** Timestamp of the newest segment seen (TS.Recent, RFC 7323). */
  get tsRecentValue(): number {
    return this.rx.tsRecent;
  }

  // ---------------------------------------------------------------- sending

  /** RST in answer to an unacceptable ACK (RFC 9293 §3.10.7.3-4): <SEQ=SEG.ACK><CTL=RST>. */
  protected sendRstFor(seg: Segment, now: number): void {
    this.queueRaw({
      flags: RST,
      dstId: seg.srcId,
      srcId: this.localId,
      seq: seg.ack,
      ack: 0,
      window: 0,
      tsVal: this.tsNow(now),
      tsEcr: seg.tsVal,
      payload: EMPTY,
    });
  }

  /**
   * @internal The Sender's and the ReceiveSide's way out: a segment with these flags, sequence number and
   * payload is to go. Its header (ids, ACK, window, timestamps, SACK) is built when it is polled.
   * `syn`: it carries the MSS and SACK-permitted options.
   */
  queueSegment(flags: number, seq: number, payload: Uint8Array, syn = false): void {
    const i = this.qTail++;
    this.qFlags[i] = syn ? flags | SYN_OPTIONS : flags;
    this.qSeq[i] = seq;
    this.qPayload[i] = payload;
  }

  /** A reply built whole from the segment it answers (an RST, a TIME_WAIT ACK), not from our state. */
  protected queueRaw(seg: Segment): void {
    const i = this.qTail++;
    this.qRaw[i] = seg;
  }

  // ---------------------------------------------------------------- output (polled)

  /**
   * The next segment to send, or undefined: first those decided by input, timers and app calls, in
   * order; then what the windows allow (the Sender's `output`, run here); last a bare ACK still owed
   * (RFC 5681 §4.2: every second full segment, out-of-order data, a filled hole) unless a segment before
   * it carried it. `holdAck`: a batch of datagrams is still arriving, so that ACK waits for its end and
   * covers the whole batch (what the app sends meanwhile carries it).
   * The object is reused by the next call on any connection: encode or copy it first.
   */
  pollSegment(now: number, holdAck = false): Segment | undefined {
    // The segment handed out last is consumed: hold on to no app data (or SACK blocks) between segments.
    OUT.payload = EMPTY;
    OUT.sack = undefined;
    for (;;) {
      if (this.qHead !== this.qTail) {
        const i = this.qHead++;
        const raw = this.qRaw[i];
        let seg: Segment;
        if (raw !== undefined) {
          this.qRaw[i] = undefined;
          seg = raw;
        } else {
          const flags = this.qFlags[i]!;
          const payload = this.qPayload[i]!;
          this.qPayload[i] = undefined;
          const syn = (flags & SYN_OPTIONS) !== 0;
          seg = this.rx.segment(OUT, flags & ~SYN_OPTIONS, this.qSeq[i]!, payload, syn, this.remoteId, this.localId, this.tx.peerSack, now);
        }
        if (this.qHead === this.qTail) this.qHead = this.qTail = 0;
        this.stats.segmentsSent++;
        return seg;
      }
      if (this.outputDue) {
        this.outputDue = false;
        this.tx.output(now);
        if (this.qHead !== this.qTail) continue;
      }
      if (!holdAck && this.ackHeld) {
        this.rx.sendAck();
        continue;
      }
      return undefined;
    }
  }

  /**
   * `pollSegment`, encoded into `buf` from offset `at` (which leaves at least `maxDatagramSize` bytes).
   * Returns the bytes written, 0 when there is nothing to send.
   */
  pollTransmit(now: number, buf: Uint8Array, holdAck = false, at = 0): number {
    const seg = this.pollSegment(now, holdAck);
    if (seg === undefined) return 0;
    const n = encodeAt(seg, buf, at);
    return n;
  }

  /** A bare ACK is owed: what `pollSegment` sends last unless told to hold it. */
  get ackHeld(): boolean {
    return this.rx.ackHeld && isSynchronized(this.state);
  }

  /** The most bytes one `pollTransmit` writes. */
  get maxDatagramSize(): number {
    return MAX_HEADER_SIZE + Math.max(this.opts.mss, this.opts.maxMss, this.tx.mss);
  }

  /** The next event for the app (and the endpoint), or undefined. */
  pollEvent(): ConnEvent | undefined {
    if (this.evHead === this.evTail) {
      this.evHead = this.evTail = 0;
      return undefined;
    }
    const ev = this.events[this.evHead]!;
    this.events[this.evHead++] = undefined;
    return ev;
  }

  /**
   * When `handleTimeout` has work next (absolute ms, Infinity for none), from one timer table:
   * TIME_WAIT, FIN_WAIT_2, delayed ACK, keepalive, and the Sender's retransmission/persist, loss
   * probe, RACK reordering, pacing and user timeout. Poll after draining `pollSegment`: sending arms timers.
   */
  pollTimeout(): number {
    return Math.min(this.tx.nextTimeout(), this.rx.delAckAt, this.timeWaitAt, this.rx.keepAliveAt, this.finWait2At);
  }

  /** @internal Time since the peer was last heard from. */
  silentFor(now: number): number {
    return this.rx.silentFor(now);
  }

  /** @internal Our timestamp clock (RFC 7323): TSval at `now`. */
  tsNow(now: number): number {
    return seqAdd(Math.floor(now), this.tsOffset);
  }

  // ---------------------------------------------------------------- states

  /** Every state change goes through here: checked against Figure 5 and reported. */
  protected transition(to: State, reason: string): void {
    const from = this.state;
    if (!isEdge(from, to)) this.stats.invalidTransitions++;
    this.state = to;
    this.emit({ type: 'state', from, to, reason });
  }

  protected enterFinWait2(now: number): void {
    this.transition(State.FIN_WAIT_2, 'rcv ACK of FIN');
    if (this.closedByApp) this.finWait2At = now + this.opts.finTimeout;
  }

  protected enterTimeWait(now: number, reason: string): void {
    this.tx.stopTimers();
    this.rx.stopTimers();
    this.finWait2At = Infinity;
    this.timeWaitAt = now + 2 * this.opts.msl;
    this.tw = {
      localId: this.localId,
      remoteId: this.remoteId,
      sndNxt: this.sndNxt,
      rcvNxt: this.rcvNxt,
      tsOffset: this.tsOffset,
      tsRecent: this.rx.tsRecent,
      expiresAt: this.timeWaitAt,
    };
    // The record exists before the state event: the endpoint takes it from timeWaitRecord() on that event.
    this.transition(State.TIME_WAIT, reason);
    this.emit({ type: 'closed' });
  }

  protected enterClosed(reason: string, error: ConnErrorCode | undefined): void {
    if (this.state === State.CLOSED) return;
    const wasTimeWait = this.state === State.TIME_WAIT;
    this.transition(State.CLOSED, reason);
    this.timeWaitAt = this.finWait2At = Infinity;
    this.rx.stopTimers();
    this.tx.clear();
    if (error) {
      this.error = error;
      this.emit({ type: 'error', code: error });
    }
    if (!wasTimeWait) this.emit({ type: 'closed' });
  }

  /** The compact TIME_WAIT record, once in TIME_WAIT. */
  timeWaitRecord(): TimeWaitRecord | undefined {
    return this.state === State.TIME_WAIT ? this.tw : undefined;
  }

  /**
   * Nothing queued, nothing in flight: give back the queues' memory. V8 keeps a drained array's
   * capacity (~150 bytes each, six of them); an idle connection need not hold it (docs/ARCHITECTURE.md,
   * Resource bounds). Called from a timer, not per segment: a busy connection keeps its arrays.
   */
  protected releaseIdle(): void {
    if (this.qHead !== this.qTail || this.evHead !== this.evTail || this.tx.sb.length > 0) return;
    if (this.qFlags.length > 0) {
      this.qFlags = [];
      this.qSeq = [];
      this.qPayload = [];
      this.qRaw = [];
    }
    if (this.events.length > 0) this.events = [];
    this.evHead = this.evTail = 0;
    this.tx.sb.release();
  }

  /** @internal Queue an event for `pollEvent`. */
  emit(ev: ConnEvent): void {
    this.events[this.evTail++] = ev;
  }

  /** Introspection for stats and tests. */
  get cwnd(): number {
    return this.cc.cwnd;
  }
  /** Bytes in flight (RFC 6675 "pipe"). */
  get pipe(): number {
    return this.sb.pipe;
  }
  get bytesInFlight(): number {
    return this.sb.pipe;
  }
  get retransmitQueueLength(): number {
    return this.sb.length;
  }
}
