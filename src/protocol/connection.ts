// One connection: the transmission control block of RFC 9293 §3.3.1 as a pure,
// poll-driven state machine (docs/ARCHITECTURE.md). Inputs — `handleSegment`,
// `handleTimeout` and the app's calls — change state only; the owner then pulls
// the output: `pollTransmit` (segments, each header built at that moment from
// the current state), `pollEvent` and `pollTimeout`. Nothing here reads a clock,
// draws randomness or arms a timer. The send side (send buffer, retransmission,
// loss recovery) is the Sender's, the receive side (RCV.NXT, segment text,
// ACKs, timestamps) the ReceiveSide's.

import { ACK, FIN, MAX_HEADER_SIZE, RST, SYN, emptySegment, encode, encodedSize, type Segment } from '../wire/segment.js';
import { seqAdd, seqGt, seqInRange, seqLe, seqLt, seqMax } from '../wire/seq.js';
import type { CongestionController } from './cc/congestion.js';
import { DEFAULT_OPTIONS, newStats, type ConnErrorCode, type ConnEvent, type ConnectionOptions } from './options.js';
import type { RttEstimator } from './recovery/rtt.js';
import type { Scoreboard } from './recovery/scoreboard.js';
import { ReceiveSide, type ReceiveHost } from './receive/receive-side.js';
import { Sender, type SenderHost } from './send/sender.js';
import { isEdge, isSynchronized, State } from './state.js';
import { timeWaitInput, type TimeWaitRecord } from './timewait.js';

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
}

/**
 * The segment every connection builds its output in, refilled by each `pollSegment`: no object per
 * segment, and none kept per connection.
 */
const OUT: Segment = emptySegment();

export class Connection implements SenderHost, ReceiveHost {
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
  private readonly tsOffset: number;
  /** The send side: SND.UNA, SND.NXT, SND.WND, the send buffer, retransmission and recovery. */
  private readonly tx: Sender;
  /** The receive side: RCV.NXT, readable bytes, the peer's FIN, ACKs, timestamps. */
  private readonly rx: ReceiveSide;

  // Timers: absolute ms, Infinity when off (more in `tx` and `rx`).
  private timeWaitAt = Infinity;
  /** FIN_WAIT_2 of a connection the app closed: when to give up on the peer's FIN. */
  private finWait2At = Infinity;
  /** The app closed the connection (close(), not shutdown()): nobody reads what arrives. */
  private closedByApp = false;

  // Output (docs/ARCHITECTURE.md, "the poll interface"). Segments decided but not yet built, as parallel
  // queues (flags, seq, payload; `raw` for a reply built whole from the segment it answers):
  // `pollSegment` builds each header only when it is taken, from the state at that moment.
  private readonly qFlags: number[] = [];
  private readonly qSeq: number[] = [];
  private readonly qPayload: Array<Uint8Array | undefined> = [];
  private readonly qRaw: Array<Segment | undefined> = [];
  private qHead = 0;
  private qTail = 0;
  /** Input changed what the windows allow: the Sender's `output` runs at the next poll. */
  private outputDue = false;
  private readonly events: Array<ConnEvent | undefined> = [];
  private evHead = 0;
  private evTail = 0;

  private tw: TimeWaitRecord | undefined;
  /** The error this connection ended with, if any. */
  error: ConnErrorCode | undefined;
  /** 'established' was emitted (also when the SYN is ACKed after a close moved us to FIN_WAIT_1). */
  private announced = false;

  constructor(init: ConnectionInit) {
    // `rto` merges field by field: a partial object from a user keeps the other defaults.
    const o = init.options;
    const opts: ConnectionOptions = { ...DEFAULT_OPTIONS, ...o, rto: { ...DEFAULT_OPTIONS.rto, ...o?.rto } };
    // As setting SO_SNDBUF / SO_RCVBUF locks Linux's autotuning: a buffer size given without a ceiling stays put.
    if (o?.sndBuf !== undefined && o.maxSndBuf === undefined) opts.maxSndBuf = o.sndBuf;
    if (o?.rcvBuf !== undefined && o.maxRcvBuf === undefined) opts.maxRcvBuf = o.rcvBuf;
    this.opts = opts;
    this.noDelay = opts.noDelay;
    this.localId = init.localId;
    this.iss = init.iss >>> 0;
    this.tsOffset = init.tsOffset >>> 0;
    this.rx = new ReceiveSide(this);
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
  private get sb(): Scoreboard {
    return this.tx.sb;
  }

  // ---------------------------------------------------------------- app calls

  /** Active open (RFC 9293 §3.10.1): send SYN. */
  connect(now: number): void {
    if (this.state !== State.CLOSED && this.state !== State.LISTEN) throw new Error(`connect in ${this.state}`);
    this.active = true;
    this.transition(State.SYN_SENT, 'connect');
    this.tx.queueSyn(SYN, now);
    this.outputDue = true;
  }

  /** Passive open: wait for a SYN (the endpoint feeds it right away). */
  listen(): void {
    if (this.state !== State.CLOSED) throw new Error(`listen in ${this.state}`);
    this.transition(State.LISTEN, 'listen');
  }

  /** Queue bytes to send. Returns how many were accepted (the send buffer is bounded). */
  write(data: Uint8Array): number {
    if (this.tx.finQueued || this.state === State.CLOSED || this.state === State.TIME_WAIT) return 0;
    const n = this.tx.write(data);
    if (n < 0) return 0;
    this.outputDue = true;
    return n;
  }

  /** Bytes written but not yet acknowledged. */
  get bufferedAmount(): number {
    return this.tx.bufferedAmount;
  }

  /** Data written (or a FIN) is not yet acknowledged. */
  get unacknowledged(): boolean {
    return this.tx.bufferedAmount > 0 || this.tx.sb.length > 0 || (this.tx.finQueued && !this.tx.finAcked && isSynchronized(this.state) && this.state !== State.TIME_WAIT);
  }

  /** Emit 'acked' once nothing written is left unacknowledged. */
  notifyWhenAcked(): void {
    this.tx.notifyAcked = true;
  }

  /** Room left in the send buffer. */
  get writableRoom(): number {
    return this.tx.writableRoom;
  }

  /** Half-close (RFC 9293 §3.10.4): FIN after everything written so far. */
  shutdown(): void {
    const tx = this.tx;
    if (tx.finQueued) return;
    switch (this.state) {
      case State.LISTEN:
      case State.SYN_SENT:
        // Nothing sent yet that the peer knows of: queue the FIN for after the handshake.
        tx.finQueued = true;
        return;
      case State.SYN_RECEIVED:
        tx.finQueued = true;
        if (tx.bufferedAmount === 0) this.transition(State.FIN_WAIT_1, 'close');
        break;
      case State.ESTABLISHED:
        tx.finQueued = true;
        this.transition(State.FIN_WAIT_1, 'close');
        break;
      case State.CLOSE_WAIT:
        tx.finQueued = true;
        this.transition(State.LAST_ACK, 'close');
        break;
      default:
        return;
    }
    this.outputDue = true;
  }

  /**
   * Close: in LISTEN or SYN_SENT there is nothing to tell the peer (RFC 9293 §3.10.4). Otherwise a FIN
   * after what is queued; once it is acknowledged, FIN_WAIT_2 lasts at most `finTimeout`.
   */
  close(now: number): void {
    if (this.state === State.LISTEN || this.state === State.SYN_SENT) {
      this.enterClosed('close', undefined);
      return;
    }
    this.closedByApp = true;
    if (this.state === State.FIN_WAIT_2) this.finWait2At = now + this.opts.finTimeout;
    this.shutdown();
  }

  /** Abort (RFC 9293 §3.10.5): RST in synchronized states, then CLOSED. */
  abort(now: number): void {
    if (this.state === State.CLOSED) return;
    if (isSynchronized(this.state) && this.state !== State.TIME_WAIT) {
      // What was written before goes out first, as net's data handed to the kernel before destroy() does.
      if (this.outputDue) {
        this.outputDue = false;
        this.tx.output(now);
      }
      this.queueSegment(RST | ACK, this.sndNxt, EMPTY);
    }
    this.enterClosed('abort', undefined);
  }

  /** Take the next chunk of in-order received bytes (at most `max`), or null. */
  read(now: number, max = Infinity): Uint8Array | null {
    const chunk = this.rx.read(max, now);
    return chunk;
  }

  get readableLength(): number {
    return this.rx.buf.length;
  }

  /** The peer's FIN arrived and every byte before it is readable. */
  get peerFinished(): boolean {
    return this.rx.peerFinReceived;
  }

  /**
   * ICMP port unreachable for the peer's address. In SYN_SENT a hard error (RFC 1122 §4.2.3.9):
   * ECONNREFUSED. Once synchronized it is a soft error (RFC 5927 §4.1), believed only when the peer has
   * been silent for `UNREACHABLE_SILENCE` and a keepalive probe or a retransmission to it is unanswered:
   * over UDP no kernel answers for a process that died, so this is how a killed peer on a live host is
   * told apart from a slow one; it fails with ETIMEDOUT, as the probes would have.
   */
  unreachable(now: number): void {
    if (this.state === State.SYN_SENT) {
      this.enterClosed('port unreachable', 'ECONNREFUSED');
    } else if (this.established && this.silentFor(now) >= UNREACHABLE_SILENCE && (this.rx.probing || this.tx.rtt.backoff > 0)) {
      this.enterClosed('port unreachable', 'ETIMEDOUT');
    } else {
      return;
    }
  }

  setNoDelay(noDelay: boolean): void {
    this.noDelay = noDelay;
    if (noDelay) this.outputDue = true;
  }

  /** Past the handshake and not yet closed or in TIME_WAIT. */
  private get established(): boolean {
    const s = this.state;
    return isSynchronized(s) && s !== State.SYN_RECEIVED && s !== State.TIME_WAIT;
  }

  // ---------------------------------------------------------------- endpoint hooks (docs/SECURITY.md)

  /**
   * SYN cookie completion (RFC 4987 §3.6): replay the SYN the cookie encodes and
   * the final ACK through the normal transitions, LISTEN → SYN_RECEIVED → ESTABLISHED.
   * The endpoint built the SYN-ACK statelessly with this connection's iss and tsOffset.
   */
  openFromCookie(syn: Segment, ack: Segment, now: number): void {
    this.listen();
    this.remoteId = syn.srcId;
    this.acceptSyn(syn);
    this.transition(State.SYN_RECEIVED, 'rcv SYN (cookie)');
    this.tx.sndNxt = seqAdd(this.iss, 1);
    this.rx.buf.advertise(this.rcvNxt); // the window the SYN-ACK offered
    this.handleSegment(ack, now);
  }

  /**
   * Side-effect free: is `seg` plausibly the peer's newest segment? Sequence number within a
   * receive buffer of RCV.NXT (a retransmission counts), ACK acceptable (RFC 5961 §5), timestamp
   * newer than any seen (RFC 7323). What may start a path validation (RFC 9000 §9): replays and
   * blind guesses fail it.
   */
  acceptsFresh(seg: Segment, minTsVal = seqAdd(seqMax(this.rx.tsRecent, this.rx.tsNewest), 1)): boolean {
    const s = this.state;
    if (!isSynchronized(s) || s === State.SYN_RECEIVED || s === State.TIME_WAIT) return false;
    if (seg.flags & (SYN | RST) || !(seg.flags & ACK) || seqLt(seg.tsVal, minTsVal)) return false;
    const wnd = this.rx.window;
    if (!seqInRange(seg.seq, seqAdd(this.rcvNxt, -this.opts.rcvBuf), seqAdd(this.rcvNxt, wnd + 1))) return false;
    return this.tx.ackAcceptable(seg.ack);
  }

  /** The peer sent a segment stamped `tsVal` on a path we take (for `acceptsFresh`). */
  heardTsVal(tsVal: number): void {
    if (seqGt(tsVal, this.rx.tsNewest)) this.rx.tsNewest = tsVal;
  }

  /** An ACK with the current numbers, not sent: the endpoint adds a path challenge or response (RFC 9000 §8.2). */
  probeSegment(now: number): Segment {
    const rx = this.rx;
    return { flags: ACK, dstId: this.remoteId, srcId: this.localId, seq: this.sndNxt, ack: rx.rcvNxt, window: rx.window, tsVal: this.tsNow(now), tsEcr: rx.tsRecent, payload: EMPTY };
  }

  /** Timestamp of the newest segment seen (TS.Recent, RFC 7323). */
  get tsRecentValue(): number {
    return this.rx.tsRecent;
  }

  // ---------------------------------------------------------------- timers

  /** Turn keepalive on or off; `idleMs` > 0 replaces the idle time (node:net's initialDelay). */
  setKeepAlive(enable: boolean, idleMs: number, now: number): void {
    this.rx.setKeepAlive(enable, idleMs, now);
  }

  /** The timers due at `now` (see `pollTimeout`). */
  handleTimeout(now: number): void {
    const tx = this.tx;
    const probes = this.stats.keepAliveProbes + this.stats.rtoTimeouts;
    if (now >= this.timeWaitAt) {
      this.timeWaitAt = Infinity;
      this.enterClosed('2msl', undefined);
    }
    if (now >= this.finWait2At) {
      this.finWait2At = Infinity;
      this.abort(now); // the peer never sent its FIN: RST, as Linux does past tcp_fin_timeout
      return;
    }
    if (now >= this.rx.delAckAt) this.rx.onDelayedAck();
    if (this.opts.userTimeout > 0 && now >= tx.stallSince + this.opts.userTimeout && this.state !== State.CLOSED) {
      this.enterClosed('user timeout', 'ETIMEDOUT');
    }
    // Probe, retransmission, reordering and pacing timers; an exhausted retransmission closes,
    // which turns the later ones off.
    const exhausted = tx.onTimeout(now);
    if (exhausted) this.enterClosed(exhausted, 'ETIMEDOUT');
    if (now >= this.rx.keepAliveAt && !this.rx.onKeepAlive(now)) {
      this.enterClosed('keepalive probes unanswered', 'ETIMEDOUT');
    }
    // A probe or a retransmission went out on a timer: the peer is quiet. The I/O layer may ask the
    // OS whether its port is still open (see `unreachable`).
    // (Not for a SYN-ACK: a flood of spoofed SYNs must not make us probe their sources.)
    if (this.stats.keepAliveProbes + this.stats.rtoTimeouts > probes && (this.established || this.state === State.SYN_SENT)) {
      this.emit({ type: 'unanswered' });
    }
  }

  // ---------------------------------------------------------------- network

  /** A segment addressed to this connection (RFC 9293 §3.10.7). */
  handleSegment(seg: Segment, now: number): void {
    this.stats.segmentsReceived++;
    this.rx.heard(now);
    switch (this.state) {
      case State.CLOSED:
        this.stats.dropped++;
        break;
      case State.LISTEN:
        this.inputListen(seg, now);
        break;
      case State.SYN_SENT:
        this.inputSynSent(seg, now);
        break;
      case State.TIME_WAIT:
        this.inputTimeWait(seg, now);
        break;
      default:
        this.inputSynchronized(seg, now);
        if ((this.state as State) !== State.CLOSED && (this.state as State) !== State.TIME_WAIT) this.tx.onPeerHeard(now);
    }
  }

  /** RFC 9293 §3.10.7.2. */
  private inputListen(seg: Segment, now: number): void {
    if (seg.flags & RST) return;
    if (seg.flags & ACK || !(seg.flags & SYN)) {
      // The endpoint answers these with RST; a LISTEN connection just drops them.
      this.stats.dropped++;
      return;
    }
    this.remoteId = seg.srcId;
    this.acceptSyn(seg);
    this.transition(State.SYN_RECEIVED, 'rcv SYN');
    this.tx.queueSyn(SYN | ACK, now);
    this.outputDue = true;
  }

  private acceptSyn(seg: Segment): void {
    this.irs = seg.seq;
    this.rx.onSyn(seg);
    this.tx.onSyn(seg);
  }

  /** RFC 9293 §3.10.7.3. */
  private inputSynSent(seg: Segment, now: number): void {
    const hasAck = (seg.flags & ACK) !== 0;
    if (hasAck && (seqLe(seg.ack, this.iss) || seqGt(seg.ack, this.sndNxt))) {
      if (!(seg.flags & RST)) this.sendRstFor(seg, now);
      this.stats.dropped++;
      return;
    }
    if (seg.flags & RST) {
      if (hasAck) this.enterClosed('rcv RST', 'ECONNREFUSED');
      return;
    }
    if (!(seg.flags & SYN)) {
      this.stats.dropped++;
      return;
    }
    this.remoteId = seg.srcId;
    this.acceptSyn(seg);
    if (hasAck) {
      this.completeActiveOpen(seg, now);
    } else {
      // Simultaneous open (RFC 9293 §3.5, Figure 8).
      this.transition(State.SYN_RECEIVED, 'rcv SYN (simultaneous open)');
      this.tx.retransmitSyn(now, SYN | ACK, false);
    }
  }

  private completeActiveOpen(seg: Segment, now: number): void {
    this.tx.onHandshakeDone(seg, now);
    this.tx.onAckAdvance(seg, now);
    this.transition(State.ESTABLISHED, 'rcv SYN,ACK');
    this.onEstablished(now);
    this.tx.updateWindow(seg);
    this.rx.ackAtOnce(); // at the batch's end: data written on 'connect' carries it
    if (this.tx.finQueued) this.startFinAfterOpen();
    this.outputDue = true;
  }

  private onEstablished(now: number): void {
    if (this.announced) return;
    this.announced = true;
    this.rx.startKeepAlive(now);
    this.emit({ type: 'established' });
  }

  private startFinAfterOpen(): void {
    if (this.state === State.ESTABLISHED) this.transition(State.FIN_WAIT_1, 'close');
    this.outputDue = true;
  }

  private inputTimeWait(seg: Segment, now: number): void {
    const tw = this.tw!;
    tw.tsRecent = this.rx.tsRecent;
    const v = timeWaitInput(tw, seg, now, 2 * this.opts.msl);
    if (v.restarted) this.timeWaitAt = tw.expiresAt;
    if (v.reply) this.queueRaw({ ...v.reply });
  }

  /** RFC 9293 §3.10.7.4: SYN_RECEIVED and every later state. */
  private inputSynchronized(seg: Segment, now: number): void {
    const rx = this.rx;
    let flags = seg.flags;
    let seq = seg.seq;
    const payload = seg.payload;

    // A simultaneous-open SYN can be forged blind (it needs no secret); a SYN-ACK that
    // acknowledges our SYN cannot. It replaces that SYN and completes the open (RFC 5961 spirit).
    if (this.active && this.state === State.SYN_RECEIVED && (flags & (SYN | ACK | RST)) === (SYN | ACK) && seq !== this.irs && seg.ack === this.sndNxt) {
      this.remoteId = seg.srcId;
      this.acceptSyn(seg);
      this.completeActiveOpen(seg, now);
      return;
    }

    // A retransmitted SYN from the peer (our SYN-ACK or ACK was lost).
    if (flags & SYN && seq === this.irs) {
      if (this.state === State.SYN_RECEIVED && !(flags & ACK)) {
        // Echo this copy's timestamp: the peer times its RTT from the SYN our SYN-ACK answers.
        if (seqGt(seg.tsVal, rx.tsRecent)) rx.tsRecent = seg.tsVal;
        this.tx.retransmitSyn(now, SYN | ACK);
        return;
      }
      if (this.state !== State.SYN_RECEIVED) {
        // A duplicate SYN-ACK once synchronized lies below the window: re-ACK it and drop it
        // (RFC 9293 §3.10.7.4), never read its ACK field or payload.
        rx.sendAck();
        return;
      }
      // The simultaneous-open SYN-ACK: trim the SYN and go on.
      flags &= ~SYN;
      seq = seqAdd(seq, 1);
    }

    // First to fourth steps: acceptability, RST, SYN (RFC 5961), PAWS (RFC 7323).
    const segLen = payload.length + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0);
    const wnd = rx.window;
    const verdict = rx.check(flags, seq, seg.tsVal, segLen, wnd, now);
    if (verdict === 'reset') {
      if (this.state === State.SYN_RECEIVED && !this.active) {
        // RFC 9293: a passive open goes back to LISTEN; the listener lives on in the endpoint.
        this.transition(State.LISTEN, 'rcv RST');
        this.enterClosed('rcv RST', undefined);
      } else if (this.state === State.SYN_RECEIVED) {
        this.enterClosed('rcv RST', 'ECONNREFUSED');
      } else if (this.state === State.CLOSING || this.state === State.LAST_ACK) {
        this.enterClosed('rcv RST', undefined);
      } else {
        this.enterClosed('rcv RST', 'ECONNRESET');
      }
    }
    if (verdict !== 'ok') return;
    this.heardTsVal(seg.tsVal);

    // Fifth: the ACK field.
    if (!(flags & ACK)) {
      this.stats.dropped++;
      return;
    }
    if (this.state === State.SYN_RECEIVED) {
      if (seqGt(seg.ack, this.sndUna) && seqLe(seg.ack, this.sndNxt)) {
        this.transition(State.ESTABLISHED, 'rcv ACK of SYN');
        this.onEstablished(now);
        this.tx.onHandshakeDone(seg, now);
        this.tx.onSynAcked(seg, seq);
        // A close issued before the handshake completed (RFC 9293 §3.10.4): the FIN goes out now.
        if (this.tx.finQueued) this.transition(State.FIN_WAIT_1, 'close');
      } else {
        this.sendRstFor(seg, now);
        return;
      }
    }
    if (!this.processAck(seg, seq, payload.length, now)) return;

    // Seventh and eighth: segment text, FIN.
    if (payload.length > 0) rx.dataEcho(seg.tsEcr, now);
    rx.onText(seq, payload, flags, wnd, now);
    this.maybeProcessFin(now);
    if (this.state === State.FIN_WAIT_1 && this.tx.finAcked) this.enterFinWait2(now);
    // Only now what the ACK allows goes out: each segment carries the RCV.NXT this one moved.
    this.outputDue = true;
  }

  /** ACK processing for synchronized states. Returns false if the segment is to be dropped. */
  private processAck(seg: Segment, seq: number, payloadLen: number, now: number): boolean {
    const tx = this.tx;
    const ack = seg.ack;
    if (!tx.ackAcceptable(ack)) {
      // Acknowledges something not yet sent, or too old (RFC 9293; RFC 5961 §5.2).
      this.rx.challengeAck(now);
      return false;
    }
    this.rx.updateTsRecent(seq, seg.tsVal);

    const oldWnd = tx.beginAck(seg, now);
    if (seqGt(ack, tx.sndUna)) {
      tx.onAckAdvance(seg, now);
      if (!this.announced && seqGt(tx.sndUna, this.iss)) this.onEstablished(now); // SYN ACKed after an early close
    } else {
      tx.onOldAck(seg, payloadLen, oldWnd, now);
    }
    tx.endAck(seg, seq, oldWnd, now);
    this.checkFinAcked(now, (seg.flags & FIN) !== 0);
    return this.state !== State.CLOSED && this.state !== State.TIME_WAIT;
  }

  /** `peerFin`: the segment also carries a FIN, so FIN_WAIT_1 may go straight to TIME_WAIT (RFC 9293 §3.10.7.4, eighth step). */
  private checkFinAcked(now: number, peerFin: boolean): void {
    if (!this.tx.takeFinAcked()) return;
    this.emit({ type: 'finished' });
    switch (this.state) {
      case State.FIN_WAIT_1:
        if (!peerFin) this.enterFinWait2(now);
        break;
      case State.CLOSING:
        this.enterTimeWait(now, 'rcv ACK of FIN');
        break;
      case State.LAST_ACK:
        this.enterClosed('rcv ACK of FIN', undefined);
        break;
    }
  }

  /** The peer's FIN, once every byte before it has arrived (RFC 9293 §3.10.7.4, eighth step). */
  private maybeProcessFin(now: number): void {
    if (!this.rx.finReached()) return;
    // From ESTABLISHED (to CLOSE_WAIT) the ACK waits for the batch's end, so a FIN the app sends on
    // 'end' carries it. Elsewhere the connection may become a TIME_WAIT record first: ACK now.
    if (this.state === State.ESTABLISHED) this.rx.ackAtOnce();
    else this.rx.sendAck();
    this.emit({ type: 'end' });
    switch (this.state) {
      case State.SYN_RECEIVED:
      case State.ESTABLISHED:
        this.transition(State.CLOSE_WAIT, 'rcv FIN');
        break;
      case State.FIN_WAIT_1:
        if (this.tx.finAcked) this.enterTimeWait(now, 'rcv FIN');
        else this.transition(State.CLOSING, 'rcv FIN');
        break;
      case State.FIN_WAIT_2:
        this.enterTimeWait(now, 'rcv FIN');
        break;
    }
  }

  // ---------------------------------------------------------------- sending

  /** RST in answer to an unacceptable ACK (RFC 9293 §3.10.7.3-4): <SEQ=SEG.ACK><CTL=RST>. */
  private sendRstFor(seg: Segment, now: number): void {
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
  private queueRaw(seg: Segment): void {
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

  /** `pollSegment`, encoded into `buf` (at least `maxDatagramSize` bytes). Returns the bytes written, 0 when there is nothing to send. */
  pollTransmit(now: number, buf: Uint8Array, holdAck = false): number {
    const seg = this.pollSegment(now, holdAck);
    if (seg === undefined) return 0;
    const n = encodedSize(seg);
    encode(seg, buf);
    OUT.payload = EMPTY; // hold on to no app data (or SACK blocks) between segments
    OUT.sack = undefined;
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
  private transition(to: State, reason: string): void {
    const from = this.state;
    if (!isEdge(from, to)) this.stats.invalidTransitions++;
    this.state = to;
    this.emit({ type: 'state', from, to, reason });
  }

  private enterFinWait2(now: number): void {
    this.transition(State.FIN_WAIT_2, 'rcv ACK of FIN');
    if (this.closedByApp) this.finWait2At = now + this.opts.finTimeout;
  }

  private enterTimeWait(now: number, reason: string): void {
    this.tx.stopTimers();
    this.rx.delAckAt = Infinity;
    this.rx.keepAliveAt = Infinity;
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

  private enterClosed(reason: string, error: ConnErrorCode | undefined): void {
    if (this.state === State.CLOSED) return;
    const wasTimeWait = this.state === State.TIME_WAIT;
    this.transition(State.CLOSED, reason);
    this.rx.delAckAt = this.timeWaitAt = this.rx.keepAliveAt = this.finWait2At = Infinity;
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
