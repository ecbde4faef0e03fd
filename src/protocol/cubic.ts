// CUBIC congestion control (RFC 9438). Windows in bytes outside, in segments
// inside the cubic function; time in ms outside, seconds inside.

import { slowStartIncrease, type CongestionController, type CongestionFactory } from './congestion.js';

const C = 0.4; // RFC 9438 §5.1
const BETA = 0.7; // RFC 9438 §4.6
const ALPHA = (3 * (1 - BETA)) / (1 + BETA); // RFC 9438 §4.3, Reno-friendly region

interface CubicState {
  cwnd: number;
  ssthresh: number;
  wMax: number;
  wLastMax: number;
  k: number;
  epoch: number;
  wEst: number;
}

export class Cubic implements CongestionController {
  readonly name = 'cubic';
  cwnd: number;
  ssthresh = Infinity;
  /** W_max in segments: the window before the last reduction. */
  private wMax = 0;
  private wLastMax = 0;
  private k = 0;
  /** Start of the current congestion-avoidance epoch (ms), or -1 when none. */
  private epoch = -1;
  /** Reno-friendly estimate W_est in segments (RFC 9438 §4.3). */
  private wEst = 0;
  /** Since when the window has gone unused (not cwnd-limited), or -1. */
  private unusedSince = -1;
  /** The state before the last reduction, for undoing a spurious one (RFC 9438 §4.9); made at the first. */
  private prior: CubicState | undefined;

  constructor(
    private mss: number,
    private readonly initialWindow = 10,
  ) {
    this.cwnd = initialWindow * mss;
  }

  onAck(acked: number, now: number, rtt: number, _inFlight?: number, cwndLimited = true): void {
    if (!cwndLimited) {
      // RFC 9438 §5.8: no growth while the application or the peer limits sending, and that
      // time does not count toward t (the epoch moves forward by it, as Linux does).
      if (this.unusedSince < 0) this.unusedSince = now;
      return;
    }
    if (this.unusedSince >= 0) {
      if (this.epoch >= 0) this.epoch += now - this.unusedSince;
      this.unusedSince = -1;
    }
    if (this.cwnd < this.ssthresh) {
      this.cwnd += slowStartIncrease(acked, this.cwnd, this.ssthresh);
      return;
    }
    const segs = this.cwnd / this.mss;
    if (this.epoch < 0) {
      this.epoch = now;
      this.wEst = segs;
      if (this.wMax <= segs) {
        this.k = 0;
        this.wMax = segs;
      } else {
        this.k = Math.cbrt((this.wMax - segs) / C); // RFC 9438 eq. 2, from the current window
      }
    }
    const t = (now - this.epoch) / 1000;
    const rttS = Math.max(rtt, 1) / 1000;
    // Target one RTT ahead (RFC 9438 §4.2), bounded to 1.5 × cwnd.
    const target = Math.min(Math.max(this.wCubic(t + rttS), segs), 1.5 * segs);
    this.wEst += (ALPHA * acked) / this.cwnd;
    let next: number;
    if (this.wCubic(t) < this.wEst) {
      next = Math.max(segs, this.wEst); // Reno-friendly region
    } else {
      next = segs + ((target - segs) / segs) * (acked / this.mss); // concave / convex regions
    }
    this.cwnd = Math.max(this.cwnd, next * this.mss);
  }

  private wCubic(t: number): number {
    return C * (t - this.k) ** 3 + this.wMax;
  }

  private reduce(): void {
    const p = (this.prior ??= { cwnd: 0, ssthresh: 0, wMax: 0, wLastMax: 0, k: 0, epoch: 0, wEst: 0 });
    p.cwnd = this.cwnd;
    p.ssthresh = this.ssthresh;
    p.wMax = this.wMax;
    p.wLastMax = this.wLastMax;
    p.k = this.k;
    p.epoch = this.epoch;
    p.wEst = this.wEst;
    const segs = this.cwnd / this.mss;
    // Fast convergence (RFC 9438 §4.7).
    this.wMax = segs < this.wLastMax ? (segs * (1 + BETA)) / 2 : segs;
    this.wLastMax = segs;
    this.ssthresh = Math.max(this.cwnd * BETA, 2 * this.mss); // RFC 9438 §4.6
    this.epoch = -1;
  }

  onLoss(): void {
    this.reduce();
    this.cwnd = this.ssthresh;
  }

  onRto(): void {
    this.reduce();
    this.cwnd = this.mss; // RFC 9438 §4.8: as RFC 5681 after a timeout
  }

  onRecoveryEnd(): void {
    this.cwnd = Math.max(this.ssthresh, 2 * this.mss);
  }

  /** RFC 9438 §4.9.1: a spurious fast retransmit restores the state before it. */
  onSpuriousLoss(): void {
    const p = this.prior;
    if (!p) return;
    this.cwnd = Math.max(this.cwnd, p.cwnd);
    this.ssthresh = p.ssthresh;
    this.wMax = p.wMax;
    this.wLastMax = p.wLastMax;
    this.k = p.k;
    this.epoch = p.epoch;
    this.wEst = p.wEst;
  }

  onIdle(): void {
    this.epoch = -1;
    this.cwnd = Math.min(this.cwnd, this.initialWindow * this.mss);
  }

  onHandshakeLoss(): void {
    this.cwnd = this.mss;
  }

  /** W_max and W_est are in segments: rescale them; the epoch restarts from the current window. */
  setMss(mss: number): void {
    const f = this.mss / mss;
    this.wMax *= f;
    this.wLastMax *= f;
    this.wEst *= f;
    this.mss = mss;
    this.epoch = -1;
  }
}

export const cubic: CongestionFactory = (mss) => new Cubic(mss);
