// The send path of one connection: the send sequence variables of RFC 9293
// §3.3.1, the send buffer, the handshake's SYN, and what goes out when:
// window, Nagle and SWS rules, pacing, path MTU probes, retransmissions. ACK
// processing (ack.ts) and the timers (sender.ts) build on it; docs/ARCHITECTURE.md
// shows the chain. Pure like the connection: `now` comes in, timers are
// absolute times the connection polls.

import { ACK, FIN, IMMEDIATE_ACK, MAX_SACK_BLOCKS_ON_DATA, SYN, type Segment } from '../../wire/segment.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe } from '../../wire/seq.js';
import { SendQueue } from './send-queue.js';
import type { CongestionController, CongestionFactory } from '../cc/congestion.js';
import { congestionFactory } from '../cc/registry.js';
import type { ConnEvent, ConnectionOptions, ConnectionStats } from '../options.js';
import { Pacer } from '../cc/pacer.js';
import { PmtuSearch } from './pmtu.js';
import { RttEstimator } from '../recovery/rtt.js';
import { Scoreboard, type ProbeListener, type TxEntry } from '../recovery/scoreboard.js';
import { State } from '../state.js';

const EMPTY = new Uint8Array(0);
/** RFC 6298 §5.7: the RTO once data starts after a SYN timed out, until an RTT sample. */
const SYN_TIMEOUT_RTO = 3000;
/** The longest wait between SYN (or SYN-ACK) retransmissions, ms. */
const SYN_RTO_MAX = 8000;
/** Bytes the largest SACK option on a data segment takes: kind, length, four blocks. */
const SACK_OPTION_MAX = 2 + 8 * MAX_SACK_BLOCKS_ON_DATA;

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
  /** The app has closed the connection (close(), not shutdown()): it finishes as an orphan. */
  readonly closedByApp: boolean;
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

export abstract class SendPath implements ProbeListener {
  // RFC 9293 §3.3.1 send sequence variables.
  sndUna: number;
  sndNxt: number;
  sndWnd = 0;
  protected sndWl1 = 0;
  protected sndWl2 = 0;
  /** The largest window the peer has offered. */
  protected maxSndWnd = 0;

  /** Effective send MSS: min(ours, the peer's). */
  mss: number;
  /** SACK negotiated (RFC 2018): the peer sent SACK-permitted and we offer it. */
  peerSack = false;
  /** The peer's MSS option: the most it accepts. */
  protected peerMss = 0;
  readonly rtt: RttEstimator;
  cc: CongestionController;
  protected pmtu: PmtuSearch | undefined;
  protected blackHoleRtos = 0;

  protected readonly sendQ = new SendQueue();
  /** Sequence number of the first byte in sendQ. */
  protected sendBase: number;
  finQueued = false;
  protected finSeq: number | undefined;
  finAcked = false;
  protected writeBlocked = false;
  /** Emit 'acked' once everything written (and a FIN) is acknowledged (`Connection.notifyWhenAcked`). */
  notifyAcked = false;
  /** The retransmission queue, pipe and loss marks (RFC 6675, RFC 8985). */
  readonly sb: Scoreboard;
  protected inRecovery = false;
  /**
   * Retransmissions since the last fast recovery began not yet reported duplicate by D-SACK;
   * -1 when there is nothing to undo (none began, an RTO came after, or it was undone).
   */
  protected undoRetrans = -1;
  /** The ACK being processed carried no SACK blocks, or SACKed something new. */
  protected ackSacksNew = true;
  protected recoverPoint = 0;
  protected dupAcks = 0;
  protected retries = 0;
  /** TSval of the SYN (or SYN-ACK) the peer answers if no copy was lost, and whether another copy went out since. */
  protected synTsVal = 0;
  protected synResent = false;
  /** When the first SYN (or SYN-ACK) went out. */
  protected synAt = 0;
  /** When the latest copy of the SYN (or SYN-ACK) went out, and its TSval. */
  protected synLastAt = 0;
  protected synLastTsVal = 0;
  /** Our retransmission timer expired during the handshake (RFC 6298 §5.7). */
  protected synTimedOut = false;
  protected lastSendAt = 0;
  /** Set while the persist timer overrides sender-side SWS avoidance. */
  protected swsOverride = false;

  // Timers: absolute ms, Infinity when off.
  rtoAt = Infinity;
  /** RACK reordering timer and tail-loss probe timer (RFC 8985). */
  reoAt = Infinity;
  ptoAt = Infinity;
  paceAt = Infinity;
  /** Since when sent data has waited for an ACK (the user timeout, RFC 5482). */
  stallSince = Infinity;
  /** Loss probes sent since the last ACK of new data (RFC 9002 §6.2.1 pto_count). */
  protected ptoCount = 0;
  /** The RTT sample taken from the ACK being processed, or -1. */
  protected ackRtt = -1;
  /** Bytes the ACK being processed acknowledged outside recovery: the window's growth, after loss detection. */
  protected ackGrowth = 0;
  /** FlightSize before the ACK being processed, or -1 outside ACK processing. */
  protected ackPriorFlight = -1;
  protected pacer: Pacer | undefined;
  /** Window use per round (RFC 7661): made when data is first in flight, as most connections idle. */
  protected use: WindowUse | null = null;

  /** The congestion controller's factory (`congestion` resolved). */
  protected readonly newCc: CongestionFactory;

  constructor(protected readonly host: SenderHost) {
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

  protected get opts(): ConnectionOptions {
    return this.host.opts;
  }
  protected get stats(): ConnectionStats {
    return this.host.stats;
  }
  protected get iss(): number {
    return this.host.iss;
  }

  /** @internal Scoreboard callback: a path MTU probe of `size` payload bytes was delivered (RFC 8899 §4.1). */
  probeAcked(size: number): void {
    if (!this.pmtu) return;
    this.pmtu.onProbeAcked(size);
    // Keep room for the largest SACK option, which a probe did not carry.
    this.setMss(Math.max(this.pmtu.base, this.pmtu.lo - SACK_OPTION_MAX));
  }

  protected setMss(mss: number): void {
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
  protected get sndBufLimit(): number {
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
  protected get flightSize(): number {
    return seqDiff(this.sndNxt, this.sndUna);
  }

  /** Our FIN has been sent (everything written before it too). */
  get finSent(): boolean {
    return this.finSeq !== undefined;
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
    // RFC 7323 §4.1: the echoed TSval names the copy answered. A SYN-ACK that answers our latest
    // SYN, and is not itself resent, left the peer at once: an exact sample from that copy's send
    // time (Karn's ambiguity gone). Under one tick (loopback) the echo alone gives none, and the
    // first data would run on RFC 6298 §5.7's 3 s RTO, without loss probes. (Not on the passive
    // side: the ACK of a SYN-ACK may be a later segment echoing the same TSval.)
    const answered = seg.flags & SYN && !(seg.flags & IMMEDIATE_ACK) && seg.tsEcr !== 0 && seg.tsEcr === this.synLastTsVal;
    if (this.synResent && !this.rtt.hasSample && answered) {
      this.rtt.sample(now - this.synLastAt);
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

  protected sendSyn(flags: number, now: number): void {
    this.send(flags, this.iss, EMPTY, now, true);
  }

  /**
   * Send the SYN (`flags` SYN) or SYN-ACK again. `lost`: on our timer or the peer's duplicate SYN;
   * not when a simultaneous open turns our SYN into a SYN-ACK (that copy is the one to answer).
   * `answer`: sent at once for the peer's duplicate SYN, so the ACK it carries is fresh and is not
   * marked as a retransmission's: the peer may time its RTT from the SYN copy it echoes.
   */
  retransmitSyn(now: number, flags: number, lost = true, answer = false): void {
    if (lost) this.synResent = true;
    else this.synTsVal = this.host.tsNow(now);
    this.synLastAt = now;
    this.synLastTsVal = this.host.tsNow(now);
    const e = this.sb.head;
    if (e && e.flags & SYN) {
      e.flags = flags;
      this.sb.onResendAsIs(e, now); // its ACK may answer either copy: no RTT sample from it
    }
    // A copy resent on our timer is marked as a retransmission: the peer takes no RTT sample from
    // the ACK it carries (it may have waited on that timer). An answer is not.
    this.send(flags | (lost && !answer ? IMMEDIATE_ACK : 0), this.iss, EMPTY, now, true);
    // At most SYN_RTO_MAX apart: over a path that loses most datagrams more tries fit in the same
    // budget (a SYN is one small datagram, no burden on a congested path).
    this.rtoAt = now + Math.min(this.rtt.rto, SYN_RTO_MAX);
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
  protected sendNew(now: number, offset: number, n: number, withFin: boolean, extraFlags: number): void {
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

  protected canSendFin(): boolean {
    return seqDiff(this.sndNxt, this.sendBase) >= this.sendQ.length;
  }

  /**
   * RFC 3708 §3 / RFC 4015: D-SACK reported every retransmission of this recovery a duplicate, so
   * nothing was lost: restore the window, and leave recovery without its exit reduction.
   */
  protected retransmit(e: TxEntry, now: number): void {
    if (this.undoRetrans >= 0) this.undoRetrans++;
    this.sb.onRetransmit(e, now, this.mss);
    this.stats.retransmittedSegments++;
    this.sendEntry(e, now);
    // The probe timer runs from the latest transmission, retransmissions included (RFC 9002 §6.2.1):
    // else in recovery it fires while the retransmission it would probe for is still on its way.
    this.armPto(now);
  }

  /** Resend an entry; it asks for an immediate ACK, so a lost retransmission shows within an RTT. */
  protected sendEntry(e: TxEntry, now: number): void {
    if (e.flags & SYN) {
      this.sendSyn(e.flags, now);
      return;
    }
    const dataLen = e.len - (e.flags & FIN ? 1 : 0);
    const payload = this.sendQ.slice(seqDiff(e.seq, this.sendBase), dataLen);
    this.send(e.flags | IMMEDIATE_ACK, e.seq, payload, now);
  }

  protected send(flags: number, seq: number, payload: Uint8Array, now: number, syn = false): void {
    if (payload.length > 0 || flags & (SYN | FIN)) this.lastSendAt = now;
    this.host.queueSegment(flags, seq, payload, syn);
  }

  /** Restart the tail-loss probe timer (RFC 8985 §7.2): on every new transmission and retransmission. */
  protected abstract armPto(now: number): void;
}
