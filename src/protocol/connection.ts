// One connection: the transmission control block of RFC 9293 §3.3.1 as a pure
// state machine. Time comes in as `now` (ms); segments go out through
// `hooks.transmit`, events through `hooks.event`. Nothing here reads a clock,
// draws randomness or arms a timer: `nextTimeout()` says when to call `onTimeout`.

import { ACK, FIN, IMMEDIATE_ACK, MAX_SACK_BLOCKS, RST, SYN, type Segment } from '../wire/segment.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqInRange, seqLe, seqLt } from '../wire/seq.js';
import { ByteQueue } from './buffers.js';
import type { CongestionController } from './congestion.js';
import { DEFAULT_OPTIONS, newStats, type ConnErrorCode, type ConnEvent, type ConnectionOptions } from './options.js';
import { RttEstimator } from './rtt.js';
import { probeTimeout } from './rack.js';
import { Pacer } from './pacer.js';
import { PmtuSearch } from './pmtu.js';
import { DUP_THRESH, Scoreboard, type TxEntry } from './scoreboard.js';
import { Receiver } from './receiver.js';
import { isEdge, isSynchronized, State } from './state.js';
import { timeWaitInput, type TimeWaitRecord } from './timewait.js';

const EMPTY = new Uint8Array(0);
/** Floor of the tail-loss probe timeout, ms (Linux uses 10; timers here are ms-granular and probes are cheap). */
const PTO_MIN = 2;
/** Consecutive loss probes without an ACK before only the RTO is left (each doubles the probe timeout). */
const MAX_PTOS = 3;
/** Bytes the largest SACK option takes: kind, length, four blocks. */
const SACK_OPTION_MAX = 2 + 8 * MAX_SACK_BLOCKS;

export interface ConnectionHooks {
  transmit(seg: Segment): void;
  event(ev: ConnEvent): void;
  /** The earliest wake-up time changed (may be Infinity). */
  timer?(at: number): void;
  /**
   * If given, an ACK owed for in-order data is not sent at once: the owner calls
   * `flushAck` after the current batch of datagrams, so one cumulative ACK covers them.
   */
  deferAck?(): void;
}

export interface ConnectionInit {
  localId: number;
  /** Initial send sequence number, from the endpoint's keyed generator (RFC 6528). */
  iss: number;
  /** Random offset for our timestamps (RFC 7323 §5.4). */
  tsOffset: number;
  options?: Partial<ConnectionOptions>;
}

export class Connection {
  readonly opts: ConnectionOptions;
  readonly localId: number;
  remoteId = 0;
  state: State = State.CLOSED;
  /** Opened with connect() (true) or from a listener (false). */
  active = false;
  readonly stats = newStats();

  // RFC 9293 §3.3.1 send sequence variables.
  readonly iss: number;
  sndUna: number;
  sndNxt: number;
  sndWnd = 0;
  private sndWl1 = 0;
  private sndWl2 = 0;
  private maxSndWnd = 0;
  // Receive sequence variables.
  irs = 0;
  rcvNxt = 0;

  /** Effective send MSS: min(ours, the peer's). */
  mss: number;
  private peerSack = false;

  // Send side.
  private readonly sendQ = new ByteQueue();
  /** Sequence number of the first byte in sendQ. */
  private sendBase: number;
  private finQueued = false;
  private finSeq: number | undefined;
  private finAcked = false;
  private writeBlocked = false;
  /** The retransmission queue, pipe and loss marks (RFC 6675, RFC 8985). */
  private readonly sb: Scoreboard;
  private inRecovery = false;
  private recoverPoint = 0;
  private dupAcks = 0;
  readonly rtt: RttEstimator;
  cc: CongestionController;
  private retries = 0;
  private lastSendAt = 0;
  /** Set while the persist timer overrides sender-side SWS avoidance. */
  private swsOverride = false;

  // Receive side: readable bytes, reassembly, the offered window.
  private readonly rcv: Receiver;
  private peerFinSeq: number | undefined;
  private peerFinReceived = false;
  private ackOwed = 0;
  /** An ACK is due at once, held to the end of the datagram batch (`hooks.deferAck`). */
  private ackDue = false;

  // Timestamps (RFC 7323).
  private readonly tsOffset: number;
  private tsRecent = 0;
  private lastAckSent = 0;

  // Timers: absolute ms, Infinity when off.
  private rtoAt = Infinity;
  private delAckAt = Infinity;
  private timeWaitAt = Infinity;
  private keepAliveAt = Infinity;
  /** RACK reordering timer and tail-loss probe timer (RFC 8985). */
  private reoAt = Infinity;
  private ptoAt = Infinity;
  /** Loss probes sent since the last ACK of new data (RFC 9002 §6.2.1 pto_count). */
  private ptoCount = 0;
  /** The RTT sample taken from the ACK being processed, or -1. */
  private ackRtt = -1;
  /** FlightSize before the ACK being processed, or -1 outside ACK processing. */
  private ackPriorFlight = -1;
  private pacer: Pacer | undefined;
  private paceAt = Infinity;
  private reportedTimeout = Infinity;
  /** Last time a segment arrived (keepalive) and since when sent data has waited for an ACK (user timeout). */
  private lastRecvAt = 0;
  private probesSent = 0;
  private stallSince = Infinity;

  // RFC 5961 §7 challenge ACK budget.
  private challengeWindow = -Infinity;
  private challengeCount = 0;
  /** Last ACK sent in answer to an out-of-window bare ACK. */
  private lastOowAckAt = -Infinity;

  private tw: TimeWaitRecord | undefined;
  /** The error this connection ended with, if any. */
  error: ConnErrorCode | undefined;
  /** The peer's MSS option: the most it accepts. */
  private peerMss = 0;
  /** 'established' was emitted (also when the SYN is ACKed after a close moved us to FIN_WAIT_1). */
  private announced = false;
  private pmtu: PmtuSearch | undefined;
  private blackHoleRtos = 0;

  constructor(
    init: ConnectionInit,
    private readonly hooks: ConnectionHooks,
  ) {
    // `rto` merges field by field: a partial object from a user keeps the other defaults.
    this.opts = { ...DEFAULT_OPTIONS, ...init.options, rto: { ...DEFAULT_OPTIONS.rto, ...init.options?.rto } };
    this.localId = init.localId;
    this.iss = init.iss >>> 0;
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.sendBase = seqAdd(this.iss, 1);
    this.tsOffset = init.tsOffset >>> 0;
    this.mss = this.opts.mss;
    this.rtt = new RttEstimator(this.opts.rto);
    this.rcv = new Receiver(this.opts);
    this.cc = this.opts.congestion(this.mss);
    this.sb = new Scoreboard(this.rtt, this); // no closures: they would cost ~700 bytes per connection
  }

  /** @internal Scoreboard callback: a path MTU probe of `size` payload bytes was delivered (RFC 8899 §4.1). */
  probeAcked(size: number): void {
    if (!this.pmtu) return;
    this.pmtu.onProbeAcked(size);
    // Keep room for the largest SACK option, which a probe did not carry.
    this.mss = Math.max(this.pmtu.base, this.pmtu.lo - SACK_OPTION_MAX);
  }

  /** @internal Scoreboard callback: a path MTU probe was lost. */
  probeLost(size: number): void {
    this.pmtu?.onProbeLost(size);
  }

  // ---------------------------------------------------------------- app calls

  /** Active open (RFC 9293 §3.10.1): send SYN. */
  connect(now: number): void {
    if (this.state !== State.CLOSED && this.state !== State.LISTEN) throw new Error(`connect in ${this.state}`);
    this.active = true;
    this.transition(State.SYN_SENT, 'connect');
    this.queueControl(SYN, now);
    this.output(now);
    this.afterCall();
  }

  /** Passive open: wait for a SYN (the endpoint feeds it right away). */
  listen(): void {
    if (this.state !== State.CLOSED) throw new Error(`listen in ${this.state}`);
    this.transition(State.LISTEN, 'listen');
  }

  /** Queue bytes to send. Returns how many were accepted (the send buffer is bounded). */
  write(data: Uint8Array, now: number): number {
    if (this.finQueued || this.state === State.CLOSED || this.state === State.TIME_WAIT) return 0;
    const room = this.opts.sndBuf - this.sendQ.length;
    if (room <= 0) {
      this.writeBlocked = true;
      return 0;
    }
    const n = Math.min(room, data.length);
    this.sendQ.push(n === data.length ? data : data.subarray(0, n));
    if (n < data.length) this.writeBlocked = true;
    this.output(now);
    this.afterCall();
    return n;
  }

  /** Bytes written but not yet acknowledged. */
  get bufferedAmount(): number {
    return this.sendQ.length;
  }

  /** Room left in the send buffer. */
  get writableRoom(): number {
    return Math.max(0, this.opts.sndBuf - this.sendQ.length);
  }

  /** Half-close (RFC 9293 §3.10.4): FIN after everything written so far. */
  shutdown(now: number): void {
    if (this.finQueued) return;
    switch (this.state) {
      case State.LISTEN:
      case State.SYN_SENT:
        // Nothing sent yet that the peer knows of: queue the FIN for after the handshake.
        this.finQueued = true;
        return;
      case State.SYN_RECEIVED:
        this.finQueued = true;
        if (this.sendQ.length === 0) this.transition(State.FIN_WAIT_1, 'close');
        break;
      case State.ESTABLISHED:
        this.finQueued = true;
        this.transition(State.FIN_WAIT_1, 'close');
        break;
      case State.CLOSE_WAIT:
        this.finQueued = true;
        this.transition(State.LAST_ACK, 'close');
        break;
      default:
        return;
    }
    this.output(now);
    this.afterCall();
  }

  /** Close: in LISTEN or SYN_SENT there is nothing to tell the peer (RFC 9293 §3.10.4). */
  close(now: number): void {
    if (this.state === State.LISTEN || this.state === State.SYN_SENT) {
      this.enterClosed('close', undefined);
      this.afterCall();
      return;
    }
    this.shutdown(now);
  }

  /** Abort (RFC 9293 §3.10.5): RST in synchronized states, then CLOSED. */
  abort(now: number): void {
    if (this.state === State.CLOSED) return;
    if (isSynchronized(this.state) && this.state !== State.TIME_WAIT) {
      this.send({ flags: RST | ACK, seq: this.sndNxt, payload: EMPTY }, now);
    }
    this.enterClosed('abort', undefined);
    this.afterCall();
  }

  /** Take the next chunk of in-order received bytes (at most `max`), or null. */
  read(now: number, max = Infinity): Uint8Array | null {
    const chunk = this.rcv.read(max);
    if (chunk) {
      this.maybeWindowUpdate(now);
      this.afterCall();
    }
    return chunk;
  }

  get readableLength(): number {
    return this.rcv.length;
  }

  /** The peer's FIN arrived and every byte before it is readable. */
  get peerFinished(): boolean {
    return this.peerFinReceived;
  }

  /** ICMP port unreachable is a hard error (RFC 1122 §4.2.3.9): an open in SYN_SENT fails with ECONNREFUSED. */
  unreachable(): void {
    if (this.state !== State.SYN_SENT) return;
    this.enterClosed('port unreachable', 'ECONNREFUSED');
    this.afterCall();
  }

  setNoDelay(noDelay: boolean, now: number): void {
    this.opts.noDelay = noDelay;
    if (noDelay) {
      this.output(now);
      this.afterCall();
    }
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
    this.sndNxt = seqAdd(this.iss, 1);
    this.rcv.advertise(this.rcvNxt); // the window the SYN-ACK offered
    this.input(ack, now);
  }

  /**
   * Side-effect free: is `seg` plausibly the peer's newest segment? Sequence number within a
   * receive buffer of RCV.NXT (a retransmission counts), ACK acceptable (RFC 5961 §5), timestamp
   * newer than any seen (RFC 7323). What may start a path validation (RFC 9000 §9): replays and
   * blind guesses fail it.
   */
  acceptsFresh(seg: Segment, minTsVal = seqAdd(this.tsRecent, 1)): boolean {
    const s = this.state;
    if (!isSynchronized(s) || s === State.SYN_RECEIVED || s === State.TIME_WAIT) return false;
    if (seg.flags & (SYN | RST) || !(seg.flags & ACK) || seqLt(seg.tsVal, minTsVal)) return false;
    const wnd = this.rcv.window(this.rcvNxt);
    if (!seqInRange(seg.seq, seqAdd(this.rcvNxt, -this.opts.rcvBuf), seqAdd(this.rcvNxt, wnd + 1))) return false;
    return seqLe(seg.ack, this.sndNxt) && seqGe(seg.ack, seqAdd(this.sndUna, -Math.max(this.maxSndWnd, this.mss)));
  }

  /** An ACK with the current numbers, not sent: the endpoint adds a path challenge or response (RFC 9000 §8.2). */
  probeSegment(now: number): Segment {
    const window = this.rcv.window(this.rcvNxt);
    return { flags: ACK, dstId: this.remoteId, srcId: this.localId, seq: this.sndNxt, ack: this.rcvNxt, window, tsVal: this.tsNow(now), tsEcr: this.tsRecent, payload: EMPTY };
  }

  /** Timestamp of the newest segment seen (TS.Recent, RFC 7323). */
  get tsRecentValue(): number {
    return this.tsRecent;
  }

  // ---------------------------------------------------------------- timers

  nextTimeout(): number {
    const user = this.opts.userTimeout > 0 ? this.stallSince + this.opts.userTimeout : Infinity;
    return Math.min(this.rtoAt, this.delAckAt, this.timeWaitAt, this.keepAliveAt, this.reoAt, this.ptoAt, this.paceAt, user);
  }

  /** Turn keepalive on or off; `idleMs` > 0 replaces the idle time (node:net's initialDelay). */
  setKeepAlive(enable: boolean, idleMs: number, now: number): void {
    this.opts.keepAlive = enable;
    if (idleMs > 0) this.opts.keepAliveIdle = idleMs;
    this.lastRecvAt = Math.max(this.lastRecvAt, now);
    this.probesSent = 0;
    this.keepAliveAt = enable && isSynchronized(this.state) ? now + this.opts.keepAliveIdle : Infinity;
    this.afterCall();
  }

  onTimeout(now: number): void {
    if (now >= this.timeWaitAt) {
      this.timeWaitAt = Infinity;
      this.enterClosed('2msl', undefined);
    }
    if (now >= this.delAckAt) {
      this.delAckAt = Infinity;
      if (this.ackOwed > 0) this.sendAck(now);
    }
    if (this.opts.userTimeout > 0 && now >= this.stallSince + this.opts.userTimeout && this.state !== State.CLOSED) {
      this.enterClosed('user timeout', 'ETIMEDOUT');
    }
    if (now >= this.ptoAt) {
      this.ptoAt = Infinity;
      this.onPto(now); // before the RTO: a probe due with it pre-empts it
    }
    if (now >= this.rtoAt) {
      this.rtoAt = Infinity;
      this.onRto(now);
    }
    if (now >= this.reoAt) {
      this.reoAt = Infinity;
      this.detectLoss(now);
      this.output(now);
    }
    if (now >= this.paceAt) {
      this.paceAt = Infinity;
      this.output(now);
    }
    if (now >= this.keepAliveAt) this.onKeepAlive(now);
    this.afterCall();
  }

  // ---------------------------------------------------------------- network

  /** A segment addressed to this connection (RFC 9293 §3.10.7). */
  input(seg: Segment, now: number): void {
    this.stats.segmentsReceived++;
    this.lastRecvAt = now;
    this.probesSent = 0;
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
    }
    this.afterCall();
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
    this.queueControl(SYN | ACK, now);
    this.output(now);
  }

  private acceptSyn(seg: Segment): void {
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.rcv.advEdge = this.rcvNxt;
    this.tsRecent = seg.tsVal;
    this.peerSack = this.opts.sack && seg.sackPermitted === true;
    if (seg.mss !== undefined && seg.mss > 0) {
      this.peerMss = seg.mss;
      this.mss = Math.min(this.opts.mss, seg.mss);
      // Windows count segments of the negotiated SMSS (RFC 5681 §3.1).
      if (this.mss !== this.opts.mss) this.cc = this.opts.congestion(this.mss);
    }
    const ceiling = Math.min(this.opts.maxMss, this.peerMss || this.opts.mss);
    if (ceiling > this.mss) this.pmtu = new PmtuSearch(this.mss, ceiling);
    this.sndWnd = seg.window;
    this.maxSndWnd = seg.window;
    this.sndWl1 = seg.seq;
    this.sndWl2 = seg.ack;
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
      this.retransmitSyn(now, SYN | ACK);
    }
  }

  private completeActiveOpen(seg: Segment, now: number): void {
    this.onAckAdvance(seg, now);
    this.transition(State.ESTABLISHED, 'rcv SYN,ACK');
    this.onEstablished(now);
    this.updateWindow(seg);
    this.sendAck(now);
    if (this.finQueued) this.startFinAfterOpen(now);
    this.output(now);
  }

  private onEstablished(now: number): void {
    if (this.announced) return;
    this.announced = true;
    if (this.opts.keepAlive) this.keepAliveAt = now + this.opts.keepAliveIdle;
    this.emit({ type: 'established' });
  }

  private startFinAfterOpen(now: number): void {
    if (this.state === State.ESTABLISHED) this.transition(State.FIN_WAIT_1, 'close');
    this.output(now);
  }

  private inputTimeWait(seg: Segment, now: number): void {
    const tw = this.tw!;
    tw.tsRecent = this.tsRecent;
    const v = timeWaitInput(tw, seg, now, 2 * this.opts.msl);
    if (v.restarted) this.timeWaitAt = tw.expiresAt;
    if (v.reply) this.transmit(v.reply);
  }

  /** RFC 9293 §3.10.7.4: SYN_RECEIVED and every later state. */
  private inputSynchronized(seg: Segment, now: number): void {
    let flags = seg.flags;
    let seq = seg.seq;
    let payload = seg.payload;

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
        this.retransmitSyn(now, SYN | ACK);
        return;
      }
      if (this.state !== State.SYN_RECEIVED) {
        // A duplicate SYN-ACK once synchronized lies below the window: re-ACK it and drop it
        // (RFC 9293 §3.10.7.4), never read its ACK field or payload.
        this.sendAck(now);
        return;
      }
      // The simultaneous-open SYN-ACK: trim the SYN and go on.
      flags &= ~SYN;
      seq = seqAdd(seq, 1);
    }

    // RFC 5961 §4.2: any other SYN, in window or not, earns a (rate-limited) challenge ACK.
    if (flags & SYN && !(flags & RST)) {
      this.challengeAck(now);
      return;
    }

    // PAWS (RFC 7323 §5.3): an old timestamp marks an old duplicate.
    if (!(flags & RST) && seqLt(seg.tsVal, this.tsRecent)) {
      this.stats.duplicateSegments++;
      this.sendAck(now);
      return;
    }

    // First: sequence acceptability (RFC 9293 §3.10.7.4, the four cases).
    const segLen = payload.length + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0);
    const wnd = this.rcv.window(this.rcvNxt);
    if (!this.rcv.acceptable(seq, segLen, this.rcvNxt, wnd)) {
      if (!(flags & RST)) {
        this.stats.duplicateSegments++;
        // An unacceptable bare ACK is answered at most every 500 ms (Linux's tcp_invalid_ratelimit):
        // two ends that each probed the other's zero window would otherwise trade ACKs forever.
        if (segLen > 0 || now - this.lastOowAckAt >= 500) {
          if (segLen === 0) this.lastOowAckAt = now;
          this.sendAck(now);
        }
      }
      return;
    }

    // Second: RST (RFC 5961 §3.2): exact match resets, in-window earns a challenge ACK.
    if (flags & RST) {
      if (seq === this.rcvNxt) {
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
      } else {
        this.challengeAck(now);
      }
      return;
    }

    // Fourth: a SYN in a synchronized state earns a challenge ACK (RFC 5961 §4.2).
    if (flags & SYN) {
      this.challengeAck(now);
      return;
    }

    // Fifth: the ACK field.
    if (!(flags & ACK)) {
      this.stats.dropped++;
      return;
    }
    if (this.state === State.SYN_RECEIVED) {
      if (seqGt(seg.ack, this.sndUna) && seqLe(seg.ack, this.sndNxt)) {
        this.transition(State.ESTABLISHED, 'rcv ACK of SYN');
        this.onEstablished(now);
        this.sndWnd = seg.window;
        this.sndWl1 = seq;
        this.sndWl2 = seg.ack;
        this.maxSndWnd = Math.max(this.maxSndWnd, seg.window);
        // A close issued before the handshake completed (RFC 9293 §3.10.4): the FIN goes out now.
        if (this.finQueued) this.transition(State.FIN_WAIT_1, 'close');
      } else {
        this.sendRstFor(seg, now);
        return;
      }
    }
    if (!this.processAck(seg, seq, payload.length, now)) return;

    // Seventh: segment text.
    if (seqLt(seq, this.rcvNxt)) {
      // Trim the part we already have (the acceptability test kept some of it).
      const skip = seqDiff(this.rcvNxt, seq);
      payload = payload.subarray(Math.min(skip, payload.length));
      seq = this.rcvNxt;
    }
    // Keep only what fits below RCV.NXT + RCV.WND, in order or not.
    const room = Math.max(0, seqDiff(seqAdd(this.rcvNxt, wnd), seq));
    if (payload.length > room) {
      payload = payload.subarray(0, room);
      flags &= ~FIN; // the FIN lies beyond the window
    }
    if (payload.length > 0) this.receiveData(seq, payload, now, (flags & IMMEDIATE_ACK) !== 0);

    // Eighth: FIN.
    if (flags & FIN) {
      const fin = seqAdd(seq, payload.length);
      if (this.peerFinSeq === undefined) this.peerFinSeq = fin;
      // A FIN above a hole: ACK at once, as for any out-of-order segment.
      if (fin !== this.rcvNxt && payload.length === 0) this.sendAck(now);
    }
    this.maybeProcessFin(now);
    if (this.state === State.FIN_WAIT_1 && this.finAcked) this.transition(State.FIN_WAIT_2, 'rcv ACK of FIN');
  }

  /** RFC 5681 FlightSize: sent and not cumulatively acknowledged (SACKed data included, unlike the pipe). */
  private get flightSize(): number {
    return seqDiff(this.sndNxt, this.sndUna);
  }

  private rttSample(r: number): void {
    this.rtt.sample(r);
    this.ackRtt = r;
  }

  /** ACK processing for synchronized states. Returns false if the segment is to be dropped. */
  private processAck(seg: Segment, seq: number, payloadLen: number, now: number): boolean {
    const ack = seg.ack;
    if (seqGt(ack, this.sndNxt)) {
      // Acknowledges something not yet sent (RFC 9293; RFC 5961 §5.2).
      this.challengeAck(now);
      return false;
    }
    if (seqLt(ack, seqAdd(this.sndUna, -Math.max(this.maxSndWnd, this.mss)))) {
      this.challengeAck(now);
      return false;
    }
    // RFC 7323 §4.3: remember the peer's timestamp for echoing.
    if (seqLe(seq, this.lastAckSent) && seqGe(seg.tsVal, this.tsRecent)) this.tsRecent = seg.tsVal;

    const oldWnd = this.sndWnd;
    this.ackPriorFlight = this.flightSize;
    if (seg.sack && this.peerSack) this.sb.onSack(seg.sack, this.sndUna, this.sndNxt, now);
    if (!seqGt(ack, this.sndUna)) {
      // SACKed, not cumulatively ACKed: still an RTT sample (as QUIC takes one from any newly acknowledged packet).
      const sample = this.sb.takeRttSample(now);
      if (sample >= 0 && seg.tsEcr !== 0) this.rttSample(sample);
    }
    if (seqGt(ack, this.sndUna)) {
      this.onAckAdvance(seg, now);
      if (!this.announced && seqGt(this.sndUna, this.iss)) this.onEstablished(now); // SYN ACKed after an early close
    } else if (
      ack === this.sndUna &&
      payloadLen === 0 &&
      !(seg.flags & FIN) &&
      seg.window === oldWnd &&
      seg.window > 0 && // answers to zero-window probes are not a loss signal
      this.sb.length > 0
    ) {
      // Duplicate ACK (RFC 5681 §2).
      this.dupAcks++;
      if (this.dupAcks === DUP_THRESH && !this.inRecovery) this.enterRecovery(now, true);
    }
    this.updateWindow(seg, seq);
    if (this.sndWnd > 0 && oldWnd === 0) this.retries = 0;
    if (this.sndWnd === 0 && this.retries > 0) this.retries = 0; // the peer answers our probes
    this.detectLoss(now);
    if (this.cc.onRateSample) {
      this.cc.onRateSample(this.sb.rate.take(this.rtt.minRtt, this.ackRtt), now, this.sb.pipe);
    }
    this.ackRtt = -1;
    this.ackPriorFlight = -1;
    this.checkFinAcked(now, (seg.flags & FIN) !== 0);
    if (this.state === State.CLOSED || this.state === State.TIME_WAIT) return false;
    this.output(now);
    return true;
  }

  private updateWindow(seg: Segment, seq = seg.seq): void {
    // RFC 9293 §3.10.7.4: update only from newer segments.
    if (seqLt(this.sndWl1, seq) || (this.sndWl1 === seq && seqLe(this.sndWl2, seg.ack))) {
      this.sndWnd = seg.window;
      this.sndWl1 = seq;
      this.sndWl2 = seg.ack;
      if (seg.window > this.maxSndWnd) this.maxSndWnd = seg.window;
    }
  }

  /** SND.UNA moves forward. */
  private onAckAdvance(seg: Segment, now: number): void {
    const ack = seg.ack;
    const acked = seqDiff(ack, this.sndUna);
    this.sb.ackTo(ack, now);
    const dataAcked = Math.min(this.sendQ.length, Math.max(0, seqDiff(ack, this.sendBase)));
    if (dataAcked > 0) {
      this.sendQ.consume(dataAcked);
      this.sendBase = seqAdd(this.sendBase, dataAcked);
    }
    this.sndUna = ack;
    this.retries = 0;
    this.ptoCount = 0;
    // RTT (only from ACKs that echo a timestamp, RFC 7323 §4.1): from the newest first transmission
    // this ACK delivers, exact to the clock; failing that (all retransmitted), from the echoed
    // timestamp, which tells transmissions apart. Under one tick it says only "< 1 ms": no sample.
    const sample = this.sb.takeRttSample(now);
    if (seg.tsEcr === 0) {
      // no echo: no sample
    } else if (sample >= 0) this.rttSample(sample);
    else {
      const r = seqDiff(this.tsNow(now), seg.tsEcr);
      if (r >= 1 && r < 120_000) this.rttSample(r);
    }
    if (this.inRecovery) {
      if (seqGe(ack, this.recoverPoint)) {
        this.inRecovery = false;
        this.dupAcks = 0;
        this.cc.onRecoveryEnd(now);
      } else if (!this.peerSack) {
        // NewReno partial ACK (RFC 6582 §3.2 step 5): the next hole is lost too; resend it now.
        const head = this.sb.head;
        this.sb.markLost(head);
        if (head?.lost) this.retransmit(head, now);
      }
    } else {
      this.dupAcks = 0;
      if (this.state !== State.SYN_SENT) this.cc.onAck(acked, now, this.rtt.latest, this.sb.pipe);
    }
    // RFC 6298 §5.2-5.3: restart or stop the timer.
    this.rtoAt = this.sb.length > 0 ? now + this.rtt.rto : Infinity;
    this.stallSince = this.sb.length > 0 ? now : Infinity;
    this.armPto(now);
    if (this.writeBlocked && this.sendQ.length < this.opts.sndBuf) {
      this.writeBlocked = false;
      this.emit({ type: 'writable' });
    }
  }

  /** RFC 8985 §6.2 and RFC 6675 §5: mark what is lost, re-arm the reordering timer, start recovery. */
  private detectLoss(now: number): void {
    const lost = this.sb.detectLoss(now, this.mss, this.peerSack, this.inRecovery);
    this.reoAt = this.sb.reorderAt;
    if (lost && !this.inRecovery) this.enterRecovery(now, false);
  }

  private enterRecovery(now: number, markFirst: boolean): void {
    this.inRecovery = true;
    this.recoverPoint = this.sndNxt;
    this.stats.fastRetransmits++;
    // RFC 5681 eq. 4's FlightSize as it stood before this ACK: the ACK that reveals a loss may also
    // acknowledge much of the window (ACKs are coalesced), which says nothing about the path's capacity.
    this.cc.onLoss(now, this.ackPriorFlight >= 0 ? this.ackPriorFlight : this.flightSize);
    if (markFirst) this.sb.markLost(this.sb.firstUnsacked());
    // RFC 5681 §3.2 step 3 / RFC 6675 §5 (4.3): the first lost segment goes out now, whatever cwnd says.
    const first = this.sb.firstLost();
    if (first) this.retransmit(first, now);
  }

  /** `peerFin`: the segment also carries a FIN, so FIN_WAIT_1 may go straight to TIME_WAIT (RFC 9293 §3.10.7.4, eighth step). */
  private checkFinAcked(now: number, peerFin: boolean): void {
    if (this.finSeq === undefined || this.finAcked) return;
    if (!seqGt(this.sndUna, this.finSeq)) return;
    this.finAcked = true;
    this.emit({ type: 'finished' });
    switch (this.state) {
      case State.FIN_WAIT_1:
        if (!peerFin) this.transition(State.FIN_WAIT_2, 'rcv ACK of FIN');
        break;
      case State.CLOSING:
        this.enterTimeWait(now, 'rcv ACK of FIN');
        break;
      case State.LAST_ACK:
        this.enterClosed('rcv ACK of FIN', undefined);
        break;
    }
  }

  private receiveData(seq: number, payload: Uint8Array, now: number, immediate: boolean): void {
    if (!(this.state === State.ESTABLISHED || this.state === State.FIN_WAIT_1 || this.state === State.FIN_WAIT_2)) {
      return; // RFC 9293: text after the peer's FIN is ignored
    }
    if (this.peerFinSeq !== undefined && seqGe(seq, this.peerFinSeq)) return;
    this.stats.bytesReceived += payload.length;
    if (seq === this.rcvNxt) {
      const hadHoles = this.rcv.hasHoles;
      this.rcvNxt = this.rcv.deliver(payload, this.rcvNxt);
      this.emit({ type: 'readable' });
      this.ackOwed += payload.length;
      // RFC 9293 §3.8.6.3 / RFC 5681 §4.2: ACK at least every second full segment;
      // at once when a hole is filled, or when the sender asks (a probe or retransmission).
      if (hadHoles || immediate) this.ackAtOnce(now);
      else if (this.ackOwed >= 2 * this.opts.mss) {
        if (this.hooks.deferAck) this.hooks.deferAck();
        else this.sendAck(now);
      }
      else if (this.delAckAt === Infinity) this.delAckAt = now + this.opts.delayedAck;
    } else {
      // Out of order: keep it, ACK at once (a duplicate ACK, with SACK blocks).
      this.stats.outOfOrderSegments++;
      this.rcv.hold(seq, payload);
      this.ackAtOnce(now);
    }
  }

  private maybeProcessFin(now: number): void {
    if (this.peerFinReceived || this.peerFinSeq === undefined || this.peerFinSeq !== this.rcvNxt) return;
    this.peerFinReceived = true;
    this.rcvNxt = seqAdd(this.rcvNxt, 1);
    this.sendAck(now);
    this.emit({ type: 'end' });
    switch (this.state) {
      case State.SYN_RECEIVED:
      case State.ESTABLISHED:
        this.transition(State.CLOSE_WAIT, 'rcv FIN');
        break;
      case State.FIN_WAIT_1:
        if (this.finAcked) this.enterTimeWait(now, 'rcv FIN');
        else this.transition(State.CLOSING, 'rcv FIN');
        break;
      case State.FIN_WAIT_2:
        this.enterTimeWait(now, 'rcv FIN');
        break;
    }
  }

  // ---------------------------------------------------------------- sending

  /** Queue SYN (or SYN-ACK) as the first entry of the retransmission queue. */
  private queueControl(flags: number, now: number): void {
    this.sb.onSent(this.iss, 1, flags, now, false);
    this.sndNxt = seqAdd(this.iss, 1);
    this.sendSyn(flags, now);
    this.rtoAt = now + this.rtt.rto;
  }

  private sendSyn(flags: number, now: number): void {
    this.send({ flags, seq: this.iss, payload: EMPTY, syn: true }, now);
  }

  private retransmitSyn(now: number, flags: number): void {
    const e = this.sb.head;
    if (e && e.flags & SYN) e.flags = flags;
    this.sendSyn(flags, now);
    this.rtoAt = now + this.rtt.rto;
  }

  /** Send what the windows allow: lost segments first, then new data and FIN. */
  private output(now: number): void {
    const s = this.state;
    if (!(s === State.ESTABLISHED || s === State.FIN_WAIT_1 || s === State.CLOSE_WAIT || s === State.CLOSING || s === State.LAST_ACK)) {
      return;
    }
    // RFC 5681 §4.1: restart from the initial window after an idle RTO (before cwnd is read below).
    const sb = this.sb;
    if (sb.length === 0 && this.lastSendAt > 0 && now - this.lastSendAt > this.rtt.rto) this.cc.onIdle(now);
    const cwnd = this.cc.cwnd;
    // Retransmit lost entries (RFC 6675 §5 NextSeg rule 1), oldest first.
    if (sb.lostCount > 0) {
      for (const e of sb.entries) {
        if (sb.lostCount === 0) break;
        if (!e.lost) continue;
        sb.splitOversized(e, this.mss);
        if (sb.pipe + e.len > cwnd) break;
        this.retransmit(e, now);
      }
    }
    for (;;) {
      const offset = seqDiff(this.sndNxt, this.sendBase);
      const unsent = this.sendQ.length - offset;
      const finPending = this.finQueued && this.finSeq === undefined && this.canSendFin();
      if (unsent <= 0 && !finPending) break;
      const wndLeft = seqDiff(seqAdd(this.sndUna, this.sndWnd), this.sndNxt);
      // Whole bytes: CUBIC's (and a halved) cwnd is fractional, and a fractional n would put the
      // sequence space (truncated to integers) and the retransmission queue out of step.
      const cwndLeft = Math.floor(cwnd - sb.pipe);
      // A path MTU probe carries real data, so a lost one is simply retransmitted smaller.
      const probe = this.pmtu && !this.inRecovery ? this.pmtu.nextProbe() : undefined;
      const seglen = probe !== undefined && unsent >= probe && wndLeft >= probe && cwndLeft >= probe ? probe : this.mss;
      let n = Math.min(seglen, unsent, wndLeft, cwndLeft);
      if (unsent > 0 && n <= 0) break;
      n = Math.max(0, n);
      if (n < this.mss && n < unsent) {
        // Sender-side silly window avoidance (RFC 9293 §3.8.6.2.1). With nothing in flight no ACK will come
        // to enlarge a cwnd-limited n (e.g. cwnd below an MSS raised by PMTU probing), so send it: the RFC's
        // override case. A small peer window is different: its window update will come.
        if (n === 0 || (n < this.maxSndWnd / 2 && !this.swsOverride && (sb.length > 0 || n >= wndLeft))) break;
      } else if (n < this.mss && !this.opts.noDelay && !this.finQueued && this.sndNxt !== this.sndUna) {
        // Nagle (RFC 9293 §3.7.4): one small segment in flight at a time.
        break;
      }
      if (cwndLeft <= 0) break;
      if (this.opts.pacing && this.rtt.hasSample) {
        this.pacer ??= new Pacer(this.mss);
        const rate = this.cc.pacingRate ?? this.pacer.rate(this.cc.cwnd, this.rtt.srtt, this.cc.cwnd < this.cc.ssthresh);
        const at = this.pacer.take(now, n + 32, rate);
        if (at > now) {
          this.paceAt = at;
          break;
        }
      }
      const withFin = this.finQueued && n === unsent && this.finSeq === undefined;
      if (n + (withFin ? 1 : 0) === 0) break;
      this.sendNew(now, offset, n, withFin, 0);
      if (withFin) break;
    }
    const unsent = this.sendQ.length - seqDiff(this.sndNxt, this.sendBase);
    // Nothing more to send and room in the window: rate samples from here on understate the path.
    if (unsent <= 0 && sb.lostCount === 0 && sb.pipe < this.cc.cwnd) sb.rate.markAppLimited(sb.pipe);
    // Zero window with data waiting and nothing in flight: the persist timer (RFC 9293 §3.8.6.1).
    if (sb.length === 0 && this.rtoAt === Infinity && unsent > 0) this.rtoAt = now + this.rtt.rto;
  }

  /** Send `n` new bytes from `offset` of the send queue (and a FIN). */
  private sendNew(now: number, offset: number, n: number, withFin: boolean, extraFlags: number): void {
    const payload = this.sendQ.slice(offset, n);
    const flags = ACK | (withFin ? FIN : 0);
    const len = n + (withFin ? 1 : 0);
    const isProbe = n > this.mss;
    if (isProbe) this.pmtu!.probing = n;
    this.sb.onSent(this.sndNxt, len, flags, now, isProbe);
    this.send({ flags: flags | extraFlags, seq: this.sndNxt, payload }, now);
    this.stats.bytesSent += n;
    if (withFin) this.finSeq = seqAdd(this.sndNxt, n);
    this.sndNxt = seqAdd(this.sndNxt, len);
    if (this.rtoAt === Infinity) this.rtoAt = now + this.rtt.rto;
    if (this.stallSince === Infinity) this.stallSince = now;
    this.armPto(now); // RFC 8985 §7.2: restart on every new transmission
  }

  private canSendFin(): boolean {
    return seqDiff(this.sndNxt, this.sendBase) >= this.sendQ.length;
  }

  private retransmit(e: TxEntry, now: number): void {
    this.sb.onRetransmit(e, now, this.mss);
    this.stats.retransmittedSegments++;
    this.sendEntry(e, now);
  }

  /** Resend an entry; it asks for an immediate ACK, so a lost retransmission shows within an RTT. */
  private sendEntry(e: TxEntry, now: number): void {
    if (e.flags & SYN) {
      this.sendSyn(e.flags, now);
      return;
    }
    const dataLen = e.len - (e.flags & FIN ? 1 : 0);
    const payload = this.sendQ.slice(seqDiff(e.seq, this.sendBase), dataLen);
    this.send({ flags: e.flags | IMMEDIATE_ACK, seq: e.seq, payload }, now);
  }

  /** RFC 6298 §5.4-5.7 and RFC 5681 §3.1: the retransmission (or persist) timer fired. */
  private onRto(now: number): void {
    const s = this.state;
    if (s === State.SYN_SENT || s === State.SYN_RECEIVED) {
      if (++this.retries > this.opts.synRetries) {
        this.enterClosed('SYN retries exhausted', 'ETIMEDOUT');
        return;
      }
      this.rtt.onTimeout();
      this.stats.rtoTimeouts++;
      this.stats.retransmittedSegments++;
      this.retransmitSyn(now, s === State.SYN_SENT ? SYN : SYN | ACK);
      return;
    }
    if (this.sb.length === 0) {
      // Persist timer: probe a zero window with one byte (RFC 9293 §3.8.6.1).
      const offset = seqDiff(this.sndNxt, this.sendBase);
      if (this.sendQ.length - offset > 0 && this.sndWnd === 0) {
        this.rtt.onTimeout();
        const payload = this.sendQ.slice(offset, 1);
        this.sb.onSent(this.sndNxt, 1, ACK, now, false);
        this.send({ flags: ACK, seq: this.sndNxt, payload }, now);
        this.sndNxt = seqAdd(this.sndNxt, 1);
        this.rtoAt = now + this.rtt.rto;
      } else {
        // The SWS override timeout (RFC 9293 §3.8.6.2.1): the window update we wait for may have been lost.
        this.swsOverride = true;
        this.output(now);
        this.swsOverride = false;
      }
      return;
    }
    if (++this.retries > this.opts.maxRetries) {
      this.enterClosed('retransmission retries exhausted', 'ETIMEDOUT');
      return;
    }
    if (this.sndWnd === 0) {
      // Persist timer (RFC 9293 §3.8.6.1): an unanswered probe of a zero window is no sign of
      // congestion; probe again, backed off, without touching cwnd.
      const e = this.sb.head!;
      this.rtt.onTimeout();
      this.sb.onPersistResend(e, now);
      this.stats.retransmittedSegments++;
      this.sendEntry(e, now);
      this.rtoAt = now + this.rtt.rto;
      return;
    }
    this.stats.rtoTimeouts++;
    this.ptoAt = this.reoAt = Infinity;
    // RFC 8899 §4.3: repeated timeouts of full-size segments after raising the MSS suggest a black hole.
    const head = this.sb.head!;
    if (this.pmtu && this.mss > this.pmtu.base && head.len > this.pmtu.base) {
      if (++this.blackHoleRtos >= 2) {
        this.pmtu.onBlackHole(this.mss);
        this.mss = this.pmtu.base;
        this.blackHoleRtos = 0;
      }
    } else {
      this.blackHoleRtos = 0;
    }
    this.cc.onRto(now, this.flightSize);
    this.rtt.onTimeout();
    // Everything outstanding is presumed lost; forget SACK state in case the receiver reneged (RFC 2018 §8).
    this.sb.onTimeout();
    this.inRecovery = false;
    this.recoverPoint = this.sndNxt;
    this.dupAcks = 0;
    // RFC 5681 §3.1: retransmit at least one segment whatever the windows say.
    this.retransmit(this.sb.head!, now);
    this.output(now);
    this.rtoAt = now + this.rtt.rto;
  }

  /** RFC 8985 §7.2: arm the tail-loss probe when it would fire before the RTO. */
  private armPto(now: number): void {
    this.ptoAt = Infinity;
    if (!this.opts.tlp || !this.rtt.hasSample || this.sb.length === 0 || this.sndWnd === 0) return;
    // Armed in recovery too, as QUIC's PTO (RFC 9002 §6.2): a lost retransmission at the tail
    // otherwise waits for the RTO. Each unanswered probe doubles the timeout (§6.2.1).
    if (this.ptoCount >= MAX_PTOS) return;
    // The peer's delayed-ACK timer is taken to be ours (WCDelAckT, RFC 8985 §7.2).
    const pto = probeTimeout(this.rtt.srtt, this.sb.length, this.opts.delayedAck, PTO_MIN);
    const at = now + pto * 2 ** this.ptoCount;
    // Only the first probe may stand in for a coinciding RTO (RFC 8985 §7.2); later ones must come sooner.
    if (this.ptoCount > 0 && at >= this.rtoAt) return;
    // RFC 8985 §7.2: never later than the RTO; when both are due the probe goes first and re-arms the RTO.
    this.ptoAt = Math.min(at, this.rtoAt);
  }

  /**
   * RFC 8985 §7.3: send a probe that draws an immediate ACK (with SACK blocks exposing tail loss):
   * one new segment if the peer's window allows, else the highest outstanding segment again.
   */
  private onPto(now: number): void {
    if (this.sb.length === 0) return;
    const last = this.sb.lastUnsacked();
    if (!last) return;
    this.stats.tailLossProbes++;
    this.ptoCount++;
    if (this.sendNewProbe(now)) {
      // new data went out (sendNew re-armed the timers)
    } else if (last.probe) {
      // A path MTU probe at the tail: presume it too big, resend its data at the confirmed size.
      this.sb.markLost(last);
      this.retransmit(last, now);
    } else if (last.inPipe) {
      // Already counted in flight: resend without adding to the pipe.
      this.sb.onResend(last, now);
      this.stats.retransmittedSegments++;
      this.sendEntry(last, now);
    } else {
      this.retransmit(last, now);
    }
    this.rtoAt = now + this.rtt.rto;
    this.armPto(now);
  }

  /** A probe of new data, outside cwnd and pacing (RFC 8985 §7.3, RFC 9002 §7.5). False if none can go. */
  private sendNewProbe(now: number): boolean {
    const s = this.state;
    if (!(s === State.ESTABLISHED || s === State.CLOSE_WAIT)) return false;
    const offset = seqDiff(this.sndNxt, this.sendBase);
    const unsent = this.sendQ.length - offset;
    const wndLeft = seqDiff(seqAdd(this.sndUna, this.sndWnd), this.sndNxt);
    const n = Math.min(this.mss, unsent, wndLeft);
    if (n <= 0 || (n < this.mss && n < unsent)) return false;
    if (this.sb.pipe + n > this.cc.cwnd) return false; // the window is full: resend instead
    this.sendNew(now, offset, n, false, IMMEDIATE_ACK);
    return true;
  }

  /** RFC 9293 §3.8.4: after an idle period, probe with SEG.SEQ = SND.NXT-1 so the peer must ACK. */
  private onKeepAlive(now: number): void {
    this.keepAliveAt = Infinity;
    if (!this.opts.keepAlive || !isSynchronized(this.state) || this.state === State.TIME_WAIT) return;
    const idleEnd = this.lastRecvAt + this.opts.keepAliveIdle;
    if (this.probesSent === 0 && now < idleEnd) {
      this.keepAliveAt = idleEnd; // something arrived since the timer was set
      return;
    }
    if (this.probesSent >= this.opts.keepAliveProbes) {
      this.enterClosed('keepalive probes unanswered', 'ETIMEDOUT');
      return;
    }
    if (this.sb.length === 0) {
      this.probesSent++;
      this.stats.keepAliveProbes++;
      this.send({ flags: ACK, seq: seqAdd(this.sndNxt, -1), payload: EMPTY }, now);
    }
    this.keepAliveAt = now + this.opts.keepAliveInterval;
  }

  /** End of a batch of datagrams: send the ACK deferred through `hooks.deferAck`, if still owed. */
  flushAck(now: number): void {
    if ((this.ackDue || this.ackOwed >= 2 * this.opts.mss) && isSynchronized(this.state)) {
      this.sendAck(now);
      this.afterCall();
    }
  }

  /**
   * An ACK owed without delay (RFC 5681 §4.2: out-of-order data, a filled hole): sent at the end
   * of the datagram batch when the host batches, so a burst of out-of-order segments draws one
   * ACK carrying the latest SACK blocks rather than one per segment.
   */
  private ackAtOnce(now: number): void {
    if (!this.hooks.deferAck) {
      this.sendAck(now);
      return;
    }
    this.ackDue = true;
    this.hooks.deferAck();
  }

  /** Send an ACK now (cancels a pending delayed ACK). */
  private sendAck(now: number): void {
    this.send({ flags: ACK, seq: this.sndNxt, payload: EMPTY }, now);
  }

  private challengeAck(now: number): void {
    if (now - this.challengeWindow >= 1000) {
      this.challengeWindow = now;
      this.challengeCount = 0;
    }
    if (this.challengeCount >= this.opts.challengeAckLimit) return;
    this.challengeCount++;
    this.stats.challengeAcks++;
    this.sendAck(now);
  }

  /** RST in answer to an unacceptable ACK (RFC 9293 §3.10.7.3-4): <SEQ=SEG.ACK><CTL=RST>. */
  private sendRstFor(seg: Segment, now: number): void {
    this.transmit({
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

  /** Build and emit one segment from this connection's state. */
  private send(p: { flags: number; seq: number; payload: Uint8Array; syn?: boolean }, now: number): void {
    const hasAck = (p.flags & ACK) !== 0;
    const seg: Segment = {
      flags: p.flags,
      dstId: this.remoteId,
      srcId: this.localId,
      seq: p.seq,
      ack: hasAck ? this.rcvNxt : 0,
      window: this.rcv.advertise(this.rcvNxt),
      tsVal: this.tsNow(now),
      tsEcr: this.tsRecent,
      payload: p.payload,
    };
    if (p.syn) {
      seg.mss = Math.max(this.opts.mss, this.opts.maxMss);
      if (this.opts.sack) seg.sackPermitted = true;
    } else if (hasAck && this.peerSack && this.rcv.hasHoles) {
      seg.sack = this.rcv.sackBlocks(MAX_SACK_BLOCKS);
    }
    if (hasAck) {
      this.lastAckSent = this.rcvNxt;
      this.ackOwed = 0;
      this.ackDue = false;
      this.delAckAt = Infinity;
    }
    if (p.payload.length > 0 || p.flags & (SYN | FIN)) this.lastSendAt = now;
    this.transmit(seg);
  }

  private transmit(seg: Segment): void {
    this.stats.segmentsSent++;
    this.hooks.transmit(seg);
  }

  /** After the app reads: tell the peer if the window opened by a useful amount. */
  private maybeWindowUpdate(now: number): void {
    if (!isSynchronized(this.state) || this.peerFinReceived) return;
    if (this.rcv.windowUpdateDue(this.rcvNxt)) this.sendAck(now);
  }

  private tsNow(now: number): number {
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

  private enterTimeWait(now: number, reason: string): void {
    this.rtoAt = Infinity;
    this.delAckAt = Infinity;
    this.keepAliveAt = this.reoAt = this.ptoAt = this.paceAt = Infinity;
    this.stallSince = Infinity;
    this.timeWaitAt = now + 2 * this.opts.msl;
    this.tw = {
      localId: this.localId,
      remoteId: this.remoteId,
      sndNxt: this.sndNxt,
      rcvNxt: this.rcvNxt,
      tsOffset: this.tsOffset,
      tsRecent: this.tsRecent,
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
    this.rtoAt = this.delAckAt = this.timeWaitAt = this.keepAliveAt = this.reoAt = this.ptoAt = this.paceAt = Infinity;
    this.stallSince = Infinity;
    this.sb.clear();
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

  private emit(ev: ConnEvent): void {
    this.hooks.event(ev);
  }

  private afterCall(): void {
    const t = this.nextTimeout();
    if (t !== this.reportedTimeout) {
      this.reportedTimeout = t;
      this.hooks.timer?.(t);
    }
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
