// The send side of one connection: the send sequence variables of RFC 9293
// §3.3.1, the send buffer, and everything that gets its bytes to the peer and
// acknowledged: window, Nagle and SWS rules, pacing, path MTU probes, and loss
// recovery (RFC 5681, RFC 6582, RFC 6675, RFC 8985, RFC 6298). The connection's
// state machine drives it; its segments go out through the host, which fills in
// the receive side's numbers. Pure like the connection: `now` comes in, timers
// are absolute times the connection reports.

import { ACK, FIN, IMMEDIATE_ACK, MAX_SACK_BLOCKS_ON_DATA, SYN, type SackBlock, type Segment } from '../../wire/segment.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from '../../wire/seq.js';
import { SendQueue } from './send-queue.js';
import type { CongestionController, CongestionFactory } from '../cc/congestion.js';
import { congestionFactory } from '../cc/registry.js';
import type { ConnEvent, ConnectionOptions, ConnectionStats } from '../options.js';
import { Pacer } from '../cc/pacer.js';
import { PmtuSearch } from './pmtu.js';
import { probeTimeout } from '../recovery/rack.js';
import { RttEstimator } from '../recovery/rtt.js';
import { DUP_THRESH, Scoreboard, type ProbeListener, type TxEntry } from '../recovery/scoreboard.js';
import { State } from '../state.js';

const EMPTY = new Uint8Array(0);
/** Floor of the tail-loss probe timeout, ms (Linux uses 10; timers here are ms-granular and probes are cheap). */
const PTO_MIN = 2;
/** RFC 6298 §5.7: the RTO once data starts after a SYN timed out, until an RTT sample. */
const SYN_TIMEOUT_RTO = 3000;
/** The longest wait between SYN (or SYN-ACK) retransmissions, ms. */
const SYN_RTO_MAX = 8000;
/** Consecutive loss probes without an ACK before only the RTO is left (each doubles the probe timeout). */
const MAX_PTOS = 3;
/** Bytes the largest SACK option on a data segment takes: kind, length, four blocks. */
const SACK_OPTION_MAX = 2 + 8 * MAX_SACK_BLOCKS_ON_DATA;

/** What the sender needs of its connection (read through it, not copied: every field costs per connection). */
export interface SenderHost {
  readonly state: State;
  readonly iss: number;
  readonly opts: ConnectionOptions;
  readonly stats: ConnectionStats;
  /** Our timestamp clock (RFC 7323): TSval at `now`. */
  tsNow(now: number): number;
  /** Time since the peer was last heard from. */
  silentFor(now: number): number;
  /** Nagle off. */
  readonly noDelay: boolean;
  /**
   * Queue one segment; its header (ids, ACK, window, timestamps) is built from the connection's state
   * when it is polled. `syn`: it carries the MSS and SACK-permitted options. Arguments, not an object:
   * no allocation per segment.
   */
  queueSegment(flags: number, seq: number, payload: Uint8Array, syn?: boolean): void;
  /** Queue an event for the app. */
  emit(ev: ConnEvent): void;
}

/** Window use per round (RFC 7661 §4.3, as Linux's tcp_is_cwnd_limited). */
interface WindowUse {
  /** The round ends when this is acknowledged. */
  roundEnd: number;
  /** The most in flight in this round and the last. */
  maxPipe: number;
  lastMaxPipe: number;
  /** The window filled with data waiting, in this round and the last. */
  full: boolean;
  lastFull: boolean;
}

export class Sender implements ProbeListener {
  // RFC 9293 §3.3.1 send sequence variables.
  sndUna: number;
  sndNxt: number;
  sndWnd = 0;
  private sndWl1 = 0;
  private sndWl2 = 0;
  /** The largest window the peer has offered. */
  private maxSndWnd = 0;

  /** Effective send MSS: min(ours, the peer's). */
  mss: number;
  /** SACK negotiated (RFC 2018): the peer sent SACK-permitted and we offer it. */
  peerSack = false;
  /** The peer's MSS option: the most it accepts. */
  private peerMss = 0;
  readonly rtt: RttEstimator;
  cc: CongestionController;
  private pmtu: PmtuSearch | undefined;
  private blackHoleRtos = 0;

  private readonly sendQ = new SendQueue();
  /** Sequence number of the first byte in sendQ. */
  private sendBase: number;
  finQueued = false;
  private finSeq: number | undefined;
  finAcked = false;
  private writeBlocked = false;
  /** Emit 'acked' once everything written (and a FIN) is acknowledged (`Connection.notifyWhenAcked`). */
  notifyAcked = false;
  /** The retransmission queue, pipe and loss marks (RFC 6675, RFC 8985). */
  readonly sb: Scoreboard;
  private inRecovery = false;
  /**
   * Retransmissions since the last fast recovery began not yet reported duplicate by D-SACK;
   * -1 when there is nothing to undo (none began, an RTO came after, or it was undone).
   */
  private undoRetrans = -1;
  /** The ACK being processed carried no SACK blocks, or SACKed something new. */
  private ackSacksNew = true;
  private recoverPoint = 0;
  private dupAcks = 0;
  private retries = 0;
  /** TSval of the SYN (or SYN-ACK) the peer answers if no copy was lost, and whether another copy went out since. */
  private synTsVal = 0;
  private synResent = false;
  /** When the first SYN (or SYN-ACK) went out. */
  private synAt = 0;
  /** Our retransmission timer expired during the handshake (RFC 6298 §5.7). */
  private synTimedOut = false;
  private lastSendAt = 0;
  /** Set while the persist timer overrides sender-side SWS avoidance. */
  private swsOverride = false;

  // Timers: absolute ms, Infinity when off.
  rtoAt = Infinity;
  /** RACK reordering timer and tail-loss probe timer (RFC 8985). */
  reoAt = Infinity;
  ptoAt = Infinity;
  paceAt = Infinity;
  /** Since when sent data has waited for an ACK (the user timeout, RFC 5482). */
  stallSince = Infinity;
  /** Loss probes sent since the last ACK of new data (RFC 9002 §6.2.1 pto_count). */
  private ptoCount = 0;
  /** The RTT sample taken from the ACK being processed, or -1. */
  private ackRtt = -1;
  /** Bytes the ACK being processed acknowledged outside recovery: the window's growth, after loss detection. */
  private ackGrowth = 0;
  /** FlightSize before the ACK being processed, or -1 outside ACK processing. */
  private ackPriorFlight = -1;
  private pacer: Pacer | undefined;
  /** Window use per round (RFC 7661): made when data is first in flight, as most connections idle. */
  private use: WindowUse | null = null;

  /** The congestion controller's factory (`congestion` resolved). */
  private readonly newCc: CongestionFactory;

  constructor(private readonly host: SenderHost) {
    const opts = host.opts;
    this.sndUna = host.iss;
    this.sndNxt = host.iss;
    this.sendBase = seqAdd(host.iss, 1);
    this.mss = opts.mss;
    this.rtt = new RttEstimator(opts.rto);
    const factory = congestionFactory(opts.congestion);
    if (!factory) throw new RangeError(`unknown congestion controller ${JSON.stringify(opts.congestion)}`);
    this.newCc = factory;
    this.cc = factory(this.mss);
    this.sb = new Scoreboard(this.rtt, this); // no closures: they would cost ~700 bytes per connection
  }

  private get opts(): ConnectionOptions {
    return this.host.opts;
  }
  private get stats(): ConnectionStats {
    return this.host.stats;
  }
  private get iss(): number {
    return this.host.iss;
  }

  /** @internal Scoreboard callback: a path MTU probe of `size` payload bytes was delivered (RFC 8899 §4.1). */
  probeAcked(size: number): void {
    if (!this.pmtu) return;
    this.pmtu.onProbeAcked(size);
    // Keep room for the largest SACK option, which a probe did not carry.
    this.setMss(Math.max(this.pmtu.base, this.pmtu.lo - SACK_OPTION_MAX));
  }

  private setMss(mss: number): void {
    if (mss === this.mss) return;
    this.mss = mss;
    this.cc.setMss?.(mss);
  }

  /** @internal Scoreboard callback: a path MTU probe was lost. */
  probeLost(size: number): void {
    this.pmtu?.onProbeLost(size);
  }

  // ---------------------------------------------------------------- send buffer

  /**
   * The send buffer now: `sndBuf`, or twice the window in use if larger (up to `maxSndBuf`), so a
   * path whose bandwidth-delay product exceeds `sndBuf` is not held to `sndBuf` per RTT.
   */
  private get sndBufLimit(): number {
    const o = this.opts;
    if (o.maxSndBuf <= o.sndBuf) return o.sndBuf;
    return Math.max(o.sndBuf, Math.min(o.maxSndBuf, Math.floor(2 * Math.min(this.cc.cwnd, this.sndWnd)))); // whole bytes: cwnd is fractional
  }

  /** Queue what fits of `data`; -1 (and 'writable' later) when the buffer is full. */
  write(data: Uint8Array): number {
    const room = this.sndBufLimit - this.sendQ.length;
    if (room <= 0) {
      this.writeBlocked = true;
      return -1;
    }
    const n = Math.min(room, data.length);
    this.sendQ.push(n === data.length ? data : data.subarray(0, n));
    if (n < data.length) this.writeBlocked = true;
    return n;
  }

  /** Bytes written but not yet acknowledged. */
  get bufferedAmount(): number {
    return this.sendQ.length;
  }

  /** Room left in the send buffer. */
  get writableRoom(): number {
    return Math.max(0, this.sndBufLimit - this.sendQ.length);
  }

  /** RFC 5961 §5.2: SEG.ACK within [SND.UNA - MAX.SND.WND, SND.NXT]. */
  ackAcceptable(ack: number): boolean {
    return seqLe(ack, this.sndNxt) && seqGe(ack, seqAdd(this.sndUna, -Math.max(this.maxSndWnd, this.mss)));
  }

  /** RFC 5681 FlightSize: sent and not cumulatively acknowledged (SACKed data included, unlike the pipe). */
  private get flightSize(): number {
    return seqDiff(this.sndNxt, this.sndUna);
  }

  /** Our FIN was acknowledged by the ACK just processed (true once). */
  takeFinAcked(): boolean {
    if (this.finSeq === undefined || this.finAcked) return false;
    if (!seqGt(this.sndUna, this.finSeq)) return false;
    this.finAcked = true;
    return true;
  }

  /** The earliest of the sender's timers, and of the user timeout (RFC 5482) when set. */
  nextTimeout(): number {
    const user = this.opts.userTimeout > 0 ? this.stallSince + this.opts.userTimeout : Infinity;
    return Math.min(this.rtoAt, this.reoAt, this.ptoAt, this.paceAt, user);
  }

  /** TIME_WAIT or CLOSED: no retransmission, probe, reordering or pacing timer, no user timeout. */
  stopTimers(): void {
    this.rtoAt = this.reoAt = this.ptoAt = this.paceAt = Infinity;
    this.stallSince = Infinity;
  }

  /** CLOSED: the timers stop, nothing awaits an ACK any more, and the unsent bytes are let go. */
  clear(): void {
    this.stopTimers();
    this.sb.clear();
    this.sendQ.consume(this.sendQ.length);
  }

  // ---------------------------------------------------------------- handshake

  /** The peer's SYN: its SACK permission, MSS and window (RFC 9293 §3.10.7.2-3); the path MTU search range. */
  onSyn(seg: Segment): void {
    this.peerSack = this.opts.sack && seg.sackPermitted === true;
    if (seg.mss !== undefined && seg.mss > 0) {
      this.peerMss = seg.mss;
      this.mss = Math.min(this.opts.mss, seg.mss);
      // Windows count segments of the negotiated SMSS (RFC 5681 §3.1).
      if (this.mss !== this.opts.mss) this.cc = this.newCc(this.mss);
    }
    const ceiling = Math.min(this.opts.maxMss, this.peerMss || this.opts.mss);
    if (ceiling > this.mss) this.pmtu = new PmtuSearch(this.mss, ceiling);
    this.sndWnd = seg.window;
    this.maxSndWnd = seg.window;
    this.sndWl1 = seg.seq;
    this.sndWl2 = seg.ack;
  }

  /**
   * The handshake completed with `seg` (the SYN-ACK, or the ACK of ours). RFC 5681 §3.1 / RFC 6928 §2:
   * after a lost SYN or SYN-ACK, send from one segment. A copy resent on a timeout that fired early
   * is told apart by the timestamp echoed: the first copy's, so it was answered (as Linux's undo).
   * RFC 6298 §5.7: after a timeout in the handshake, and with no RTT sample, the RTO starts at 3 s.
   */
  onHandshakeDone(seg: Segment, now: number): void {
    if (this.synResent && seg.tsEcr !== this.synTsVal && this.cc.onHandshakeLoss) {
      this.cc.onHandshakeLoss(now);
      this.stats.handshakeLossRestarts++;
    }
    if (this.synTimedOut && !this.rtt.hasSample) this.rtt.restart(SYN_TIMEOUT_RTO);
  }

  /** The window of the ACK that completes a passive open (RFC 9293 §3.10.7.4). */
  onSynAcked(seg: Segment, seq: number): void {
    this.sndWnd = seg.window;
    this.sndWl1 = seq;
    this.sndWl2 = seg.ack;
    this.maxSndWnd = Math.max(this.maxSndWnd, seg.window);
  }

  /** Queue SYN (or SYN-ACK) as the first entry of the retransmission queue. */
  queueSyn(flags: number, now: number): void {
    this.synAt = now;
    this.synTsVal = this.host.tsNow(now);
    this.sb.onSent(this.iss, 1, flags, now, false);
    this.sndNxt = seqAdd(this.iss, 1);
    this.sendSyn(flags, now);
    this.rtoAt = now + this.rtt.rto;
  }

  private sendSyn(flags: number, now: number): void {
    this.send(flags, this.iss, EMPTY, now, true);
  }

  /**
   * Send the SYN (`flags` SYN) or SYN-ACK again. `lost`: on our timer or the peer's duplicate SYN;
   * not when a simultaneous open turns our SYN into a SYN-ACK (that copy is the one to answer).
   */
  retransmitSyn(now: number, flags: number, lost = true): void {
    if (lost) this.synResent = true;
    else this.synTsVal = this.host.tsNow(now);
    const e = this.sb.head;
    if (e && e.flags & SYN) {
      e.flags = flags;
      this.sb.onResendAsIs(e, now); // its ACK may answer either copy: no RTT sample from it
    }
    // Marked as a retransmission, so the peer takes no RTT sample from the ACK it carries.
    this.send(flags | (lost ? IMMEDIATE_ACK : 0), this.iss, EMPTY, now, true);
    // At most SYN_RTO_MAX apart: over a path that loses most datagrams more tries fit in the same
    // budget (a SYN is one small datagram, no burden on a congested path).
    this.rtoAt = now + Math.min(this.rtt.rto, SYN_RTO_MAX);
  }

  // ---------------------------------------------------------------- ACK processing

  /**
   * The RTT sample an ACK gives, if any (RFC 6298 §3, RFC 7323 §4.1). Only ACKs that echo a timestamp
   * count, and none from a segment the peer marked as a retransmission or probe: it may have held its
   * ACK since its own timer. From the newest first transmission the ACK delivers, exact to the clock,
   * unless it also delivers a retransmission (Karn). Failing that, a cumulative ACK's echoed timestamp,
   * if it echoes the latest transmission of what it delivers (else it answers an earlier copy, RFC 3522).
   */
  private ackRttSample(seg: Segment, now: number, cumulative: boolean): void {
    const retransSentAt = this.sb.retransSentAt;
    const sample = this.sb.takeRttSample(now);
    if (seg.tsEcr === 0 || seg.flags & IMMEDIATE_ACK) return;
    if (sample >= 0) {
      this.rttSample(sample);
      return;
    }
    if (!cumulative || retransSentAt === -Infinity) return;
    // Under one tick the echo says only "< 1 ms": no sample.
    const r = seqDiff(this.host.tsNow(now), seg.tsEcr);
    if (r >= 1 && r < 120_000 && Math.floor(now) - r >= Math.floor(retransSentAt)) this.rttSample(r);
  }

  private rttSample(r: number): void {
    this.rtt.sample(r);
    this.ackRtt = r;
  }

  /**
   * The sender's part of an acceptable ACK (RFC 9293 §3.10.7.4, fifth step), in three calls:
   * `beginAck` (SACK blocks), then `onAckAdvance` or `onOldAck`, then `endAck`.
   * Returns SND.WND before this ACK.
   */
  beginAck(seg: Segment, now: number): number {
    const oldWnd = this.sndWnd;
    this.ackPriorFlight = this.flightSize;
    this.ackSacksNew = true;
    if (seg.sack && this.peerSack) {
      if (isDsack(seg.sack, seg.ack)) {
        this.stats.dsacksReceived++;
        this.sb.onDsack(this.sndUna, this.sndNxt);
        if (this.undoRetrans > 0 && --this.undoRetrans === 0) this.undoRecovery(now);
      }
      this.ackSacksNew = this.sb.onSack(seg.sack, this.sndUna, this.sndNxt, now) > 0;
    }
    return oldWnd;
  }

  /** An ACK that leaves SND.UNA where it is. */
  onOldAck(seg: Segment, payloadLen: number, oldWnd: number, now: number): void {
    // SACKed, not cumulatively ACKed: still an RTT sample (as QUIC takes one from any newly acknowledged packet).
    this.ackRttSample(seg, now, false);
    if (
      seg.ack === this.sndUna &&
      payloadLen === 0 &&
      !(seg.flags & FIN) &&
      seg.window === oldWnd &&
      seg.window > 0 && // answers to zero-window probes are not a loss signal
      this.sb.length > 0 &&
      this.ackSacksNew // RFC 6675 §2: with SACK blocks, only an ACK that SACKs new data (not a D-SACK alone)
    ) {
      // Duplicate ACK (RFC 5681 §2).
      this.dupAcks++;
      if (this.dupAcks === DUP_THRESH && !this.inRecovery) this.enterRecovery(now, true);
    }
  }

  /** After either: the peer's window, loss detection, the delivery-rate sample. */
  endAck(seg: Segment, seq: number, oldWnd: number, now: number): void {
    this.updateWindow(seg, seq);
    if (this.sndWnd > 0 && oldWnd === 0) this.retries = 0;
    if (this.sndWnd === 0) {
      // The peer answers our probes: a closed window is flow control, not a dead peer (nor a user timeout).
      this.retries = 0;
      if (this.sb.length > 0) this.stallSince = now;
    }
    this.detectLoss(now);
    // The window grows after loss detection: an ACK that starts recovery does not first grow the
    // window it then reduces (Linux's tcp_may_raise_cwnd).
    if (this.ackGrowth > 0 && !this.inRecovery) {
      this.cc.onAck(this.ackGrowth, now, this.rtt.latest, this.sb.pipe, this.cwndLimited(seg.ack));
    }
    this.ackGrowth = 0;
    if (this.cc.onRateSample) {
      this.cc.onRateSample(this.sb.rate.take(this.rtt.minRtt, this.ackRtt), now, this.sb.pipe);
    }
    this.ackRtt = -1;
    this.ackPriorFlight = -1;
  }

  /** SND.WND from `seg` (RFC 9293 §3.10.7.4): only from newer segments, by SND.WL1 and SND.WL2. */
  updateWindow(seg: Segment, seq = seg.seq): void {
    if (seqLt(this.sndWl1, seq) || (this.sndWl1 === seq && seqLe(this.sndWl2, seg.ack))) {
      this.sndWnd = seg.window;
      this.sndWl1 = seq;
      this.sndWl2 = seg.ack;
      if (seg.window > this.maxSndWnd) this.maxSndWnd = seg.window;
    }
  }

  /** SND.UNA moves forward. */
  onAckAdvance(seg: Segment, now: number): void {
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
    this.ackRttSample(seg, now, true);
    if (this.inRecovery) {
      if (seqGe(ack, this.recoverPoint)) {
        this.inRecovery = false;
        this.dupAcks = 0;
        this.cc.onRecoveryEnd(now);
        this.sb.onRecoveryEnd();
      } else if (!this.peerSack) {
        // NewReno partial ACK (RFC 6582 §3.2 step 5): the next hole is lost too; resend it now.
        const head = this.sb.head;
        this.sb.markLost(head);
        if (head?.lost) this.retransmit(head, now);
      }
    } else {
      this.dupAcks = 0;
      if (this.host.state !== State.SYN_SENT) this.ackGrowth = acked;
    }
    // RFC 6298 §5.2-5.3: restart or stop the timer.
    this.rtoAt = this.sb.length > 0 ? now + this.rtt.rto : Infinity;
    this.stallSince = this.sb.length > 0 ? now : Infinity;
    this.armPto(now);
    if (this.notifyAcked && this.sb.length === 0 && this.sendQ.length === 0) {
      this.notifyAcked = false;
      this.host.emit({ type: 'acked' });
    }
    if (this.writeBlocked && this.sendQ.length < this.sndBufLimit) {
      this.writeBlocked = false;
      this.host.emit({ type: 'writable' });
    }
  }

  /**
   * Whether the window limited sending lately (RFC 7661 §4.3). In slow start, while the most in
   * flight in this round or the last is over half the window (Linux's rule: pacing and ACK
   * batching keep the pipe below a window that is in use); after it, while the window filled
   * with data waiting. A new round starts when `ack` passes the end of the last.
   */
  private cwndLimited(ack: number): boolean {
    const u = this.use;
    if (u === null) return false; // no data was ever in flight
    if (seqGe(ack, u.roundEnd)) {
      u.lastMaxPipe = u.maxPipe;
      u.lastFull = u.full;
      u.maxPipe = this.sb.pipe;
      u.full = false;
      u.roundEnd = this.sndNxt;
    }
    const cwnd = this.cc.cwnd;
    if (cwnd < this.cc.ssthresh) return cwnd < 2 * Math.max(u.maxPipe, u.lastMaxPipe);
    return u.full || u.lastFull;
  }

  /** RFC 8985 §6.2 and RFC 6675 §5: mark what is lost, re-arm the reordering timer, start recovery. */
  private detectLoss(now: number): void {
    const lost = this.sb.detectLoss(now, this.mss, this.peerSack);
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
    this.undoRetrans = 0;
    if (markFirst) {
      // The segment above the cumulative ACK, unless it is a retransmission still in flight: with
      // SACK, RACK judges those by when they were sent (re-marking one sends a needless copy, and
      // the ACK of the earlier copy is then taken for the latest, misleading RACK).
      const head = this.sb.firstUnsacked();
      if (!(this.peerSack && head && head.retransmits > 0 && head.inPipe)) this.sb.markLost(head);
    }
    // RFC 5681 §3.2 step 3 / RFC 6675 §5 (4.3): the first lost segment goes out now, whatever cwnd says.
    const first = this.sb.firstLost();
    if (first) this.retransmit(first, now);
  }

  // ---------------------------------------------------------------- sending

  /** Send what the windows allow: lost segments first, then new data and FIN. */
  output(now: number): void {
    const s = this.host.state;
    if (!(s === State.ESTABLISHED || s === State.FIN_WAIT_1 || s === State.CLOSE_WAIT || s === State.CLOSING || s === State.LAST_ACK)) {
      return;
    }
    // RFC 5681 §4.1: restart from the initial window after an idle RTO (before cwnd is read below).
    const sb = this.sb;
    if (sb.length === 0 && this.lastSendAt > 0 && now - this.lastSendAt > this.rtt.rto) this.cc.onIdle(now);
    const cwnd = this.cc.cwnd;
    // Retransmit lost entries (RFC 6675 §5 NextSeg rule 1), oldest first.
    if (sb.lostCount > 0) {
      const q = sb.entries; // may grow during the walk (splitOversized)
      for (let i = sb.firstLostIndex(); i < q.length; i++) {
        if (sb.lostCount === 0) break;
        const e = q[i]!;
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
      } else if (n < this.mss && !this.host.noDelay && !this.finQueued && this.sndNxt !== this.sndUna) {
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
    if (sb.pipe > 0) {
      const u = (this.use ??= { roundEnd: this.sndNxt, maxPipe: 0, lastMaxPipe: 0, full: false, lastFull: false });
      if (sb.pipe > u.maxPipe) u.maxPipe = sb.pipe;
      if ((unsent > 0 || sb.lostCount > 0) && sb.pipe + this.mss > cwnd) u.full = true;
    }
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
    this.send(flags | extraFlags, this.sndNxt, payload, now);
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

  /**
   * RFC 3708 §3 / RFC 4015: D-SACK reported every retransmission of this recovery a duplicate, so
   * nothing was lost: restore the window, and leave recovery without its exit reduction.
   */
  private undoRecovery(now: number): void {
    this.undoRetrans = -1;
    if (!this.cc.onSpuriousLoss) return;
    this.cc.onSpuriousLoss(now);
    this.inRecovery = false;
    this.stats.spuriousRecoveries++;
  }

  private retransmit(e: TxEntry, now: number): void {
    if (this.undoRetrans >= 0) this.undoRetrans++;
    this.sb.onRetransmit(e, now, this.mss);
    this.stats.retransmittedSegments++;
    this.sendEntry(e, now);
    // The probe timer runs from the latest transmission, retransmissions included (RFC 9002 §6.2.1):
    // else in recovery it fires while the retransmission it would probe for is still on its way.
    this.armPto(now);
  }

  /** Resend an entry; it asks for an immediate ACK, so a lost retransmission shows within an RTT. */
  private sendEntry(e: TxEntry, now: number): void {
    if (e.flags & SYN) {
      this.sendSyn(e.flags, now);
      return;
    }
    const dataLen = e.len - (e.flags & FIN ? 1 : 0);
    const payload = this.sendQ.slice(seqDiff(e.seq, this.sendBase), dataLen);
    this.send(e.flags | IMMEDIATE_ACK, e.seq, payload, now);
  }

  private send(flags: number, seq: number, payload: Uint8Array, now: number, syn = false): void {
    if (payload.length > 0 || flags & (SYN | FIN)) this.lastSendAt = now;
    this.host.queueSegment(flags, seq, payload, syn);
  }

  // ---------------------------------------------------------------- timers

  /**
   * The sender's timers that are due, in order: loss probe, retransmission, RACK reordering, pacing.
   * Returns the reason when the retries are exhausted: the connection fails with ETIMEDOUT.
   */
  onTimeout(now: number): string | undefined {
    if (now >= this.ptoAt) {
      this.ptoAt = Infinity;
      this.onPto(now); // before the RTO: a probe due with it pre-empts it
    }
    if (now >= this.rtoAt) {
      this.rtoAt = Infinity;
      const exhausted = this.onRto(now);
      if (exhausted) return exhausted;
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
    return undefined;
  }

  /** RFC 6298 §5.4-5.7 and RFC 5681 §3.1: the retransmission (or persist) timer fired. */
  private onRto(now: number): string | undefined {
    const s = this.host.state;
    if (s === State.SYN_SENT || s === State.SYN_RECEIVED) {
      // As the data budget: synRetries doublings from the initial RTO (Linux's tcp_syn_retries), in time.
      const o = this.opts;
      const giveUpAt = this.synAt + retryBudget(o.synRetries, o.rto.rtoMax, o.rto.rtoInitial);
      if (++this.retries > o.synRetries && now >= giveUpAt) return 'SYN retries exhausted';
      this.synTimedOut = true;
      this.rtt.onTimeout();
      this.stats.rtoTimeouts++;
      this.stats.retransmittedSegments++;
      this.retransmitSyn(now, s === State.SYN_SENT ? SYN : SYN | ACK);
      if (this.retries >= o.synRetries && giveUpAt > now) this.rtoAt = Math.min(this.rtoAt, giveUpAt); // fail on time
      return undefined;
    }
    if (this.sb.length === 0) {
      // Persist timer: probe a zero window with one byte (RFC 9293 §3.8.6.1).
      const offset = seqDiff(this.sndNxt, this.sendBase);
      if (this.sendQ.length - offset > 0 && this.sndWnd === 0) {
        this.rtt.onTimeout();
        const payload = this.sendQ.slice(offset, 1);
        this.sb.onSent(this.sndNxt, 1, ACK, now, false);
        if (this.stallSince === Infinity) this.stallSince = now; // it awaits an ACK too
        this.send(ACK, this.sndNxt, payload, now);
        this.sndNxt = seqAdd(this.sndNxt, 1);
        this.rtoAt = now + this.rtt.rto;
      } else {
        // The SWS override timeout (RFC 9293 §3.8.6.2.1): the window update we wait for may have been lost.
        this.swsOverride = true;
        this.output(now);
        this.swsOverride = false;
      }
      return undefined;
    }
    if (this.retriesExhausted(now)) return 'retransmission retries exhausted';
    if (this.sndWnd === 0) {
      // Persist timer (RFC 9293 §3.8.6.1): an unanswered probe of a zero window is no sign of
      // congestion; probe again, backed off, without touching cwnd.
      const e = this.sb.head!;
      this.rtt.onTimeout();
      this.sb.onResendAsIs(e, now);
      this.stats.retransmittedSegments++;
      this.sendEntry(e, now);
      this.rtoAt = now + this.rtt.rto;
      return undefined;
    }
    this.stats.rtoTimeouts++;
    this.ptoAt = this.reoAt = Infinity;
    // RFC 8899 §4.3: repeated timeouts of full-size segments after raising the MSS suggest a black hole.
    const head = this.sb.head!;
    if (this.pmtu && this.mss > this.pmtu.base && head.len > this.pmtu.base) {
      if (++this.blackHoleRtos >= 2) {
        this.pmtu.onBlackHole(this.mss);
        this.setMss(this.pmtu.base);
        this.blackHoleRtos = 0;
      }
    } else {
      this.blackHoleRtos = 0;
    }
    this.cc.onRto(now, this.flightSize);
    this.sb.onRecoveryEnd(); // an RTO episode counts as a recovery (RFC 8985 §6.2 step 4)
    this.undoRetrans = -1; // an RTO is not undone here
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
    return undefined;
  }

  /**
   * One more retransmission timeout of data: is it time to give up? With a user timeout set, that alone
   * decides (RFC 5482; the connection checks it). Else after `maxRetries` timeouts, and not before the
   * time those would take from a 200 ms RTO (RFC 1122 §4.2.3.5's R2, as Linux's tcp_retries2): a short
   * RTO must not shorten the budget, so an outage of a minute is survived with the defaults.
   */
  private retriesExhausted(now: number): boolean {
    this.retries++;
    const o = this.opts;
    if (o.userTimeout > 0) return false;
    // Counted from the last progress or, if later, the last word from the peer: a peer still heard from
    // (its probes, its data) is alive, and the path is lossy rather than gone.
    const stalled = Math.min(now - this.stallSince, this.host.silentFor(now));
    return this.retries > o.maxRetries && stalled >= retryBudget(o.maxRetries, o.rto.rtoMax);
  }

  /**
   * The peer was heard from while our retransmissions go unanswered (any segment the endpoint routed
   * here, even one dropped as old or acknowledging nothing new): the path works at least one way, so the backed-off timer is brought
   * back to one unbacked RTO from now. After an outage the first segment through restarts the transfer
   * within an RTO, not after the rest of a backoff of up to a minute (as RFC 6069 reverts the backoff on
   * signs of a connectivity disruption); at most one retransmission per RTO, so no burst.
   */
  onPeerHeard(now: number): void {
    if (this.rtt.backoff < 2 || this.sb.length === 0 || this.rtoAt === Infinity) return;
    const at = now + this.rtt.baseRto;
    if (at < this.rtoAt) {
      this.rtoAt = at;
      this.ptoAt = Infinity;
    }
  }

  /** RFC 8985 §7.2: arm the tail-loss probe when it would fire before the RTO. */
  private armPto(now: number): void {
    this.ptoAt = Infinity;
    if (!this.opts.tlp || !this.rtt.hasSample || this.sb.length === 0 || this.sndWnd === 0) return;
    // After a timeout, until an ACK brings an RTT sample, only the backed-off RTO runs (RFC 8985 §7.2:
    // no probe in RTO recovery): probes in between would stretch the chain past maxRetries RTOs.
    if (this.rtt.backoff > 0) return;
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
      if (this.undoRetrans >= 0) this.undoRetrans++;
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
    const s = this.host.state;
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
}

/** Linux's tcp_model_timeout: how long `retries` timeouts take from a `base` RTO (200 ms) doubling up to `rtoMax`, ms. */
export function retryBudget(retries: number, rtoMax: number, base = 200): number {
  const linear = Math.max(0, Math.floor(Math.log2(rtoMax / base)));
  if (retries <= linear) return (2 ** (retries + 1) - 1) * base;
  return (2 ** (linear + 1) - 1) * base + (retries - linear) * rtoMax;
}

/** RFC 2883 §4: the first block reports a duplicate when it lies below the ACK or inside the second block. */
function isDsack(sack: readonly SackBlock[], ack: number): boolean {
  const b0 = sack[0];
  if (!b0) return false;
  if (seqLe(b0.end, ack)) return true;
  const b1 = sack[1];
  return b1 !== undefined && seqGe(b0.start, b1.start) && seqLe(b0.end, b1.end);
}
