// Loss-tolerant CUBIC ("cubic-lt"), the default controller. CUBIC (RFC 9438) reads every
// loss as congestion, so random loss (a lossy radio link, an overloaded middlebox) keeps its
// window far below the path's capacity. This variant keeps CUBIC's growth and, when it does
// respond, CUBIC's response, but asks first whether a loss came with congestion:
//
// - Delay (TCP Veno's observation: a queue is what congestion is): the standing RTT, the least
//   sample of the last max(SRTT, 10 ms) as Copa's RTTstanding, is compared with the path's
//   min_rtt. A loss while that queue is under half the deepest queue seen (a drop-tail buffer
//   overflows near its depth; random loss strikes at any) is taken for random loss, with that
//   threshold kept within 1 ms (a host's noise) and 5 ms (CoDel's target): the window stands and
//   keeps growing, slow start included. The windowed minimum lets a queue that stands through a
//   round count and a burst of late samples (a peer's event loop that paused, a garbage
//   collection) pass; after a cut, only samples from after it count.
// - Inflight (BBRv2/v3's bound on inflight, draft-cardwell-ccwg-bbr §5.5.10): data in flight far
//   beyond the delivery rate × SRTT (plus the queue the delay test lets pass; twice that in
//   slow start while the rate still grows) is congestion too, queue or not (a policer, a tiny buffer).
// - Floor (TCP Westwood+'s "ssthresh = BWE × RTTmin"): a congestion response never cuts the
//   window below the estimated BDP, so a drop-tail queue of any depth drains without leaving
//   the link idle. With a queue of 0.43 BDP or more, CUBIC's β = 0.7 cuts deeper than the
//   floor, and the response is CUBIC's exactly: sharing with CUBIC (Linux TCP) stays fair.
// - Lift: with no queue standing, the window is at least the delivery rate × (min_rtt + Q_MIN),
//   what the delay test would let pass anyway (see `lift`).
//
// Sizes in bytes, time in ms, rates in bytes per ms.

import { Cubic } from './cubic.js';
import type { CongestionFactory, RateSample } from './congestion.js';

/** A standing queue shorter than this is never congestion (a host's scheduling noise), ms. */
const Q_MIN = 1;
/**
 * A standing queue longer than this always is, ms: CoDel's target (RFC 8289 §4.2), the queue a
 * managed bottleneck keeps. Between the two, half the deepest queue seen decides.
 */
const Q_TARGET = 5;
/** In flight beyond EXCESS × the delivery rate × SRTT (plus a few segments) is congestion whatever the delay. */
const EXCESS = 3;
/** The delivery-rate estimate is the max over this many rounds (as BBR's, draft §5.5.5). */
const BW_ROUNDS = 10;
/** The delivery rate still grows while some round of the last FULL_BW_ROUNDS raised it by this factor (BBR's startup exit). */
const FULL_BW_GROWTH = 1.25;
const FULL_BW_ROUNDS = 3;
/** The window after a timeout without a queue behind it, segments (RFC 3390's initial window). */
const RTO_WINDOW = 4;
/** The standing RTT is the least sample of the last max(SRTT, STANDING_MIN) ms: on a sub-millisecond path, longer than an event-loop hiccup. */
const STANDING_MIN = 10;
/** Samples the windowed minimum keeps at most (a monotonic queue; the oldest go first when full). */
const STANDING_SLOTS = 64;

export class CubicLt extends Cubic {
  override readonly name: string = 'cubic-lt';
  /** The path's min_rtt: the least RTT ever sampled (no expiry: a stale low value only makes the controller more careful). */
  minRtt = Infinity;
  /** Max delivery rate over the last BW_ROUNDS rounds, bytes per ms. */
  bw = 0;
  /** Losses let pass as random, for stats and tests. */
  toleratedLosses = 0;
  /** Congestion responses (losses taken for congestion, RTOs). */
  reductions = 0;
  /** Per-round maxima, [rate, round] pairs; allocated on the first sample (an idle connection holds none). */
  private bwSlots: Float64Array | null = null;
  private delivered = 0;
  /** The rate at the last growth by FULL_BW_GROWTH, and the rounds since (draft §5.3.1.2). */
  private fullBw = 0;
  private fullBwRounds = 0;
  private round = 0;
  private nextRoundDelivered = 0;
  /** RTT samples smoothed with gain 1/4, ms: the standing window's length, and CUBIC's RTT. */
  private srtt = Infinity;
  /** The least RTT sample of the standing window, ms. */
  private standing = Infinity;
  /** The windowed minimum: [time, rtt] pairs with rising rtt, a ring from `wHead`, `wLen` long; allocated on the first sample. */
  private win: Float64Array | null = null;
  private wHead = 0;
  private wLen = 0;
  /** The deepest queue seen, ms. */
  private maxQueue = 0;
  private pipe = Infinity;
  private recovering = false;
  /** The current recovery's loss was taken for random loss: the window keeps growing through it. */
  private tolerating = false;
  /** The last onLoss reduced the window (so onSpuriousLoss has something to undo). */
  private reduced = false;
  /** When the window was last cut for congestion, ms (-Infinity: never). */
  private cutAt = -Infinity;

  /** The standing queue: the standing RTT above min_rtt, ms (0 before any sample). */
  get queueDelay(): number {
    return this.standing === Infinity ? 0 : this.standing - this.minRtt;
  }

  /** The estimated bandwidth-delay product, bytes (0 before both estimates exist). */
  get bdp(): number {
    return this.minRtt === Infinity ? 0 : this.bw * this.minRtt;
  }

  /** Is a loss, with `inFlight` bytes outstanding, a sign of congestion? */
  congested(inFlight: number, now: number): boolean {
    const q = this.queueDelay;
    if (q > this.maxQueue) this.maxQueue = q;
    const threshold = this.queueThreshold();
    // The standing RTT is the least of a window of samples: one that began before the last cut
    // still shows the queue of the window before it, which that cut answered.
    if (q > threshold && now - this.cutAt >= this.standingSpan()) return true;
    // The bound also lets in what a queue at that threshold holds at the delivery rate, as the
    // delay test does. In slow start, while the rate still grows, what was measured lags what is
    // sent by a round: half of it. Once it has stopped growing (a policer's rate), it is not doubled.
    const gain = this.cwnd < this.ssthresh && this.fullBwRounds < FULL_BW_ROUNDS ? 2 : 1;
    return this.bdp > 0 && inFlight > gain * this.bw * (EXCESS * this.ackRtt() + threshold) + 4 * this.mss;
  }

  /**
   * The RTT the ACKs take, ms: in flight is the rate × this (Little's law) where nothing is lost
   * on the way, so far more in flight means data lost without a queue (a policer). SRTT, not
   * min_rtt: on a host-bound path the ACK clock runs at the event loops' pace, many times min_rtt.
   */
  private ackRtt(): number {
    return this.srtt === Infinity ? this.minRtt : Math.max(this.srtt, this.minRtt);
  }

  /**
   * The standing queue beyond which a loss is congestion, ms: half the deepest queue seen (about
   * the buffer: a drop-tail queue overflows near it, random loss strikes at any depth), within
   * [Q_MIN, Q_TARGET]. A host-bound path (loopback) queues in socket buffers, many ms deep, and
   * loses at random well below that depth.
   */
  queueThreshold(): number {
    return Math.max(Q_MIN, Math.min(Q_TARGET, this.maxQueue / 2));
  }

  override onLoss(now: number, flightSize: number): void {
    this.recovering = true;
    // The pipe (RFC 6675) as the last ACK left it: FlightSize counts SACKed data above holes.
    this.tolerating = !this.congested(Math.min(flightSize, this.pipe), now);
    this.reduced = !this.tolerating;
    if (this.tolerating) this.toleratedLosses++;
    else this.respond(now);
  }

  /** CUBIC's multiplicative decrease (RFC 9438 §4.6), not below the estimated BDP. */
  private respond(now: number): void {
    this.reductions++;
    this.cutAt = now;
    this.reduce(this.bdp);
    this.cwnd = this.ssthresh;
  }

  override onRto(now: number, flightSize: number): void {
    this.recovering = this.tolerating = false;
    if (!this.congested(Math.min(flightSize, this.pipe), now)) {
      // No queue stood behind the timeout: random loss took a retransmission, or every ACK of a
      // small flight. The window restarts from up to RTO_WINDOW segments, so that one more lost
      // segment or ACK does not mean one more (doubled) timeout, and slow start climbs back to the
      // window it had. With a queue, RFC 9438 §4.8's one segment.
      this.toleratedLosses++;
      this.ssthresh = Math.max(Math.min(this.ssthresh, this.cwnd), 2 * this.mss);
      this.cwnd = Math.min(this.cwnd, this.rtoWindow());
      return;
    }
    this.reductions++;
    this.cutAt = now;
    this.reduce(this.bdp); // ssthresh: slow start climbs back to the BDP at least
    this.cwnd = this.mss; // RFC 9438 §4.8
  }

  /**
   * The window after a timeout without a queue: RTO_WINDOW segments, but no more than the path
   * delivers in min_rtt + Q_MIN at the estimated rate, so the burst cannot outlast the RTO on a
   * slow link (where it would time out again, spuriously, and again); one segment without estimates.
   */
  private rtoWindow(): number {
    const room = this.minRtt === Infinity ? 0 : this.bw * (this.minRtt + Q_MIN);
    return Math.max(this.mss, Math.min(RTO_WINDOW * this.mss, Math.floor(room / this.mss) * this.mss));
  }

  override onAck(acked: number, now: number, rtt: number, inFlight?: number, cwndLimited = true): void {
    super.onAck(acked, now, rtt, inFlight, cwndLimited);
    if (cwndLimited) this.lift();
  }

  /**
   * With no queue standing, the window is at least what the path delivers in min_rtt + Q_MIN at the
   * measured rate: a queue that short is never congestion (see `congested`), so a window below it
   * only idles the path. After a cut on a host-bound path (loopback: min_rtt well under a
   * millisecond, the ACK clock many times that), CUBIC's Reno-friendly growth of a segment per
   * round took hundreds of rounds to get back.
   */
  private lift(): void {
    if (this.bdp === 0 || this.queueDelay >= Q_MIN) return;
    const room = Math.floor((this.bw * (this.minRtt + Q_MIN)) / this.mss) * this.mss;
    if (room > this.cwnd) this.cwnd = room;
  }

  override onRecoveryEnd(now: number): void {
    // After a tolerated recovery the window stands as it grew (Cubic's would reset it to ssthresh).
    if (!this.tolerating) super.onRecoveryEnd(now);
    this.recovering = this.tolerating = false;
  }

  override onSpuriousLoss(now: number): void {
    if (this.reduced) super.onSpuriousLoss(now);
    this.reduced = false;
  }

  onRateSample(rs: RateSample, now: number, inFlight: number): void {
    this.delivered += rs.newlyAcked;
    if (rs.newlyAcked > 0 && rs.priorDelivered >= this.nextRoundDelivered) {
      // A round ends when data sent after its start is acknowledged (draft-cardwell-ccwg-bbr §5.5.1).
      this.nextRoundDelivered = this.delivered;
      this.round++;
      this.checkFullBw();
    }
    if (rs.rtt >= 0) {
      this.srtt = this.srtt === Infinity ? rs.rtt : this.srtt + (rs.rtt - this.srtt) / 4;
      if (rs.rtt < this.minRtt) this.minRtt = rs.rtt;
      this.standing = this.windowMin(rs.rtt, now);
      if (this.queueDelay > this.maxQueue) this.maxQueue = this.queueDelay;
    }
    this.updateBw(rs);
    this.pipe = inFlight;
    if (!this.recovering || !this.tolerating) return;
    // In a tolerated recovery: a queue that builds up now makes further loss congestion after all.
    if (rs.newlyLost > 0 && this.congested(inFlight + rs.newlyAcked, now)) {
      this.tolerating = false;
      this.reduced = true;
      this.respond(now);
      return;
    }
    // Else grow as outside recovery (the sender calls onAck only there). Window-limited, roughly
    // as RFC 7661 and the sender judge it: half the window in use in slow start, all of it after.
    const used = inFlight + rs.newlyAcked;
    const limited = !rs.appLimited && (this.cwnd < this.ssthresh ? 2 * used > this.cwnd : used + 2 * this.mss >= this.cwnd);
    if (rs.newlyAcked > 0) this.onAck(rs.newlyAcked, now, this.srtt === Infinity ? 0 : this.srtt, inFlight, limited);
  }

  /**
   * Draft-cardwell-ccwg-bbr §5.3.1.2: the delivery rate has stopped growing once three rounds in a
   * row raised it by less than a quarter. Checked at each round's start, on the rounds before.
   */
  private checkFullBw(): void {
    if (this.bw >= FULL_BW_GROWTH * this.fullBw) {
      this.fullBw = this.bw;
      this.fullBwRounds = 0;
    } else if (this.fullBwRounds < FULL_BW_ROUNDS) {
      this.fullBwRounds++;
    }
  }

  /** The standing window's length, ms. */
  private standingSpan(): number {
    return Math.max(this.srtt === Infinity ? 0 : this.srtt, STANDING_MIN);
  }

  /** Adds a sample to the standing window and returns the window's least RTT (Copa's RTTstanding). */
  private windowMin(rtt: number, now: number): number {
    const w = (this.win ??= new Float64Array(2 * STANDING_SLOTS));
    // Later samples at least as low make earlier higher ones irrelevant: drop them from the back.
    while (this.wLen > 0 && w[2 * ((this.wHead + this.wLen - 1) % STANDING_SLOTS) + 1]! >= rtt) this.wLen--;
    if (this.wLen === STANDING_SLOTS) {
      this.wHead = (this.wHead + 1) % STANDING_SLOTS;
      this.wLen--;
    }
    const i = 2 * ((this.wHead + this.wLen) % STANDING_SLOTS);
    w[i] = now;
    w[i + 1] = rtt;
    this.wLen++;
    // Samples older than the window leave from the front (the newest always stays).
    const from = now - this.standingSpan();
    while (this.wLen > 1 && w[2 * this.wHead]! < from) {
      this.wHead = (this.wHead + 1) % STANDING_SLOTS;
      this.wLen--;
    }
    return w[2 * this.wHead + 1]!;
  }

  /** Draft-cardwell-ccwg-bbr §5.5.5: a windowed max of the delivery rate; app-limited samples only raise it. */
  private updateBw(rs: RateSample): void {
    if (rs.rate <= 0 || (rs.appLimited && rs.rate < this.bw)) return;
    const s = (this.bwSlots ??= new Float64Array(2 * BW_ROUNDS).fill(-1));
    const i = 2 * (this.round % BW_ROUNDS);
    if (s[i + 1] !== this.round) {
      s[i + 1] = this.round;
      s[i] = 0;
    }
    if (rs.rate > s[i]!) s[i] = rs.rate;
    let max = 0;
    for (let k = 0; k < 2 * BW_ROUNDS; k += 2) {
      if (s[k + 1]! > this.round - BW_ROUNDS && s[k]! > max) max = s[k]!;
    }
    this.bw = max;
  }
}

export const cubicLt: CongestionFactory = (mss) => new CubicLt(mss);
