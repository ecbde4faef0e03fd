// CUBIC congestion control (RFC 9438). Windows in bytes outside, in segments
// inside the cubic function; time in ms outside, seconds inside.

import { slowStartIncrease, type CongestionController, type CongestionFactory } from './congestion.js';

const C = 0.4; // RFC 9438 §5.1
const BETA = 0.7; // RFC 9438 §4.6
const ALPHA = (3 * (1 - BETA)) / (1 + BETA); // RFC 9438 §4.3, Reno-friendly region

/** What the cubic function runs on; windows in segments. */
interface CubicState {
  /** W_max: the window before the last reduction. */
  wMax: number;
  /** The W_max before that, for fast convergence (RFC 9438 §4.7). */
  wLastMax: number;
  /** K: seconds the cubic function takes to climb back to W_max (RFC 9438 eq. 2). */
  k: number;
  /** Start of the current congestion-avoidance epoch (ms), or -1 when none. */
  epoch: number;
  /** Reno-friendly estimate W_est (RFC 9438 §4.3). */
  wEst: number;
  /** cwnd_prior: the window at the last congestion event (Infinity before any). */
  cwndPrior: number;
}

export class Cubic implements CongestionController {
  readonly name: string = 'cubic';
  cwnd: number;
  ssthresh = Infinity;
  private st: CubicState = { wMax: 0, wLastMax: 0, k: 0, epoch: -1, wEst: 0, cwndPrior: Infinity };
  /** Since when the window has gone unused (not cwnd-limited), or -1. */
  private unusedSince = -1;
  /** The state before the last reduction, for undoing a spurious one (RFC 9438 §4.9). */
  private prior: { cwnd: number; ssthresh: number; st: CubicState } | undefined;

  constructor(
    protected mss: number,
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
      if (this.st.epoch >= 0) this.st.epoch += now - this.unusedSince;
      this.unusedSince = -1;
    }
    if (this.cwnd < this.ssthresh) {
      this.cwnd += slowStartIncrease(acked, this.cwnd, this.ssthresh);
      return;
    }
    const segs = this.cwnd / this.mss;
    if (this.st.epoch < 0) {
      this.st.epoch = now;
      this.st.wEst = segs;
      if (this.st.wMax <= segs) {
        this.st.k = 0;
        this.st.wMax = segs;
      } else {
        this.st.k = Math.cbrt((this.st.wMax - segs) / C); // RFC 9438 eq. 2, from the current window
      }
    }
    const t = (now - this.st.epoch) / 1000;
    const rttS = Math.max(rtt, 1) / 1000;
    // Target one RTT ahead (RFC 9438 §4.2), bounded to 1.5 × cwnd.
    const target = Math.min(Math.max(this.wCubic(t + rttS), segs), 1.5 * segs);
    // RFC 9438 §4.3: α_cubic until W_est reaches the window of the last congestion event, then Reno's 1.
    this.st.wEst += ((this.st.wEst >= this.st.cwndPrior ? 1 : ALPHA) * acked) / this.cwnd;
    let next: number;
    if (this.wCubic(t) < this.st.wEst) {
      next = Math.max(segs, this.st.wEst); // Reno-friendly region
    } else {
      next = segs + ((target - segs) / segs) * (acked / this.mss); // concave / convex regions
    }
    this.cwnd = Math.max(this.cwnd, next * this.mss);
  }

  /** W_max in segments (introspection). */
  get wMax(): number {
    return this.st.wMax;
  }

  private wCubic(t: number): number {
    return C * (t - this.st.k) ** 3 + this.st.wMax;
  }

  /** RFC 9438 §4.6-4.7; ssthresh is never set below `floor` bytes (a subclass's lower bound). */
  protected reduce(floor = 0): void {
    this.prior = { cwnd: this.cwnd, ssthresh: this.ssthresh, st: { ...this.st } };
    const segs = this.cwnd / this.mss;
    // Fast convergence (RFC 9438 §4.7).
    this.st.wMax = segs < this.st.wLastMax ? (segs * (1 + BETA)) / 2 : segs;
    this.st.wLastMax = segs;
    this.st.cwndPrior = segs;
    this.ssthresh = Math.max(this.cwnd * BETA, Math.min(floor, this.cwnd), 2 * this.mss); // RFC 9438 §4.6
    this.st.epoch = -1;
  }

  onLoss(_now?: number, _flightSize?: number): void {
    this.reduce();
    this.cwnd = this.ssthresh;
  }

  onRto(_now?: number, _flightSize?: number): void {
    this.reduce();
    this.cwnd = this.mss; // RFC 9438 §4.8: as RFC 5681 after a timeout
  }

  onRecoveryEnd(_now?: number): void {
    this.cwnd = Math.max(this.ssthresh, 2 * this.mss);
  }

  /** RFC 9438 §4.9.1: a spurious fast retransmit restores the state before it. */
  onSpuriousLoss(_now?: number): void {
    const p = this.prior;
    if (!p) return;
    this.cwnd = Math.max(this.cwnd, p.cwnd);
    this.ssthresh = p.ssthresh;
    this.st = { ...p.st };
  }

  onIdle(): void {
    this.st.epoch = -1;
    this.cwnd = Math.min(this.cwnd, this.initialWindow * this.mss);
  }

  onHandshakeLoss(): void {
    this.cwnd = this.mss;
  }

  /** W_max and W_est are in segments: rescale them; the epoch restarts from the current window. */
  setMss(mss: number): void {
    const f = this.mss / mss;
    this.st.wMax *= f;
    this.st.wLastMax *= f;
    this.st.wEst *= f;
    this.st.cwndPrior *= f;
    this.mss = mss;
    this.st.epoch = -1;
  }
}

export const cubic: CongestionFactory = (mss) => new Cubic(mss);
