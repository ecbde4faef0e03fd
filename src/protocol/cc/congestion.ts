// Congestion control: the interface every controller implements, and NewReno
// (RFC 5681, RFC 6582). Sizes are in bytes.

import type { RateSample } from './delivery.js';

export type { RateSample };

export interface CongestionController {
  readonly name: string;
  /** Congestion window in bytes. */
  readonly cwnd: number;
  readonly ssthresh: number;
  /**
   * New data was cumulatively acknowledged outside recovery. `cwndLimited`: the window, not the
   * application or the peer's window, limited sending in this round or the last (RFC 7661 §4.3;
   * undefined means yes). A loss-based controller grows only when it is.
   */
  onAck(ackedBytes: number, now: number, rtt: number, bytesInFlight: number, cwndLimited?: boolean): void;
  /** Loss detected by duplicate ACKs / SACK: entering fast recovery (RFC 5681 §3.2 step 2). `flightSize`: RFC 5681's FlightSize. */
  onLoss(now: number, flightSize: number): void;
  /** The retransmission timer fired (RFC 5681 §3.1 eq. 4). */
  onRto(now: number, flightSize: number): void;
  /** Fast recovery ended with a full ACK (RFC 6582 §3.2 step 3). */
  onRecoveryEnd(now: number): void;
  /** The connection was idle for longer than one RTO (RFC 5681 §4.1). */
  onIdle(now: number): void;
  /**
   * Optional: the last `onLoss` answered no loss (every retransmission it caused was reported
   * duplicate by D-SACK, RFC 3708): undo its reduction (RFC 9438 §4.9, RFC 4015).
   */
  onSpuriousLoss?(now: number): void;
  /** Optional: the sender's MSS changed (path MTU discovery, RFC 8899): count segments in the new size. */
  setMss?(mss: number): void;
  /**
   * Optional: our SYN or SYN-ACK was lost, so the window starts from one segment instead of the
   * initial window (RFC 5681 §3.1, RFC 6928 §2); ssthresh stands. Called once, before any data.
   */
  onHandshakeLoss?(now: number): void;
  /**
   * Optional, for model-based controllers: every ACK's delivery-rate sample, in recovery or
   * not (after `onAck`/`onLoss`/`onRecoveryEnd` for the same ACK).
   */
  onRateSample?(rs: RateSample, now: number, bytesInFlight: number): void;
  /** Optional: the rate to pace at, bytes per ms; when defined it replaces the cwnd/SRTT rule. */
  readonly pacingRate?: number | undefined;
}

export type CongestionFactory = (mss: number) => CongestionController;

/** RFC 5681 slow start and congestion avoidance with the RFC 6582 recovery response. */
export class NewReno implements CongestionController {
  readonly name = 'newreno';
  cwnd: number;
  ssthresh = Infinity;
  private acc = 0;
  private priorCwnd = 0;
  private priorSsthresh = Infinity;

  constructor(
    private mss: number,
    private readonly initialWindow = 10,
  ) {
    this.cwnd = initialWindow * mss;
  }

  onAck(acked: number, _now?: number, _rtt?: number, _inFlight?: number, cwndLimited = true): void {
    if (!cwndLimited) return; // RFC 7661: an unused window is not evidence the path holds more
    if (this.cwnd < this.ssthresh) {
      this.cwnd += slowStartIncrease(acked, this.cwnd, this.ssthresh);
    } else {
      // Congestion avoidance: about one MSS per RTT (RFC 5681 eq. 3, byte counting).
      this.acc += acked;
      if (this.acc >= this.cwnd) {
        this.acc -= this.cwnd;
        this.cwnd += this.mss;
      }
    }
  }

  onLoss(_now: number, flightSize: number): void {
    this.priorCwnd = this.cwnd;
    this.priorSsthresh = this.ssthresh;
    // RFC 5681 eq. 4; with SACK, FlightSize can exceed cwnd (SACKed data): never raise the window.
    this.ssthresh = Math.max(Math.min(flightSize, this.cwnd) / 2, 2 * this.mss);
    this.cwnd = this.ssthresh;
    this.acc = 0;
  }

  onRto(_now: number, inFlight: number): void {
    this.ssthresh = Math.max(inFlight / 2, 2 * this.mss);
    this.cwnd = this.mss; // loss window: one segment
    this.acc = 0;
  }

  onRecoveryEnd(): void {
    this.cwnd = Math.max(this.ssthresh, 2 * this.mss);
  }

  onSpuriousLoss(): void {
    this.cwnd = Math.max(this.cwnd, this.priorCwnd);
    this.ssthresh = this.priorSsthresh;
  }

  onIdle(): void {
    // RFC 5681 §4.1: restart window = min(IW, cwnd).
    this.cwnd = Math.min(this.cwnd, this.initialWindow * this.mss);
  }

  onHandshakeLoss(): void {
    this.cwnd = this.mss;
  }

  setMss(mss: number): void {
    this.mss = mss;
  }
}

/**
 * Slow start's growth for an ACK of `acked` bytes: byte counting (RFC 3465) without its L limit,
 * up to ssthresh. The receiver coalesces ACKs (one per batch of datagrams, often 20-30 segments),
 * so L = 2 would grow the window by a fraction per RTT instead of doubling it; pacing spreads
 * the growth instead, as Linux does. Past ssthresh the rest waits for congestion avoidance.
 */
export function slowStartIncrease(acked: number, cwnd: number, ssthresh: number): number {
  return Math.max(0, Math.min(acked, ssthresh - cwnd));
}

export const newReno: CongestionFactory = (mss) => new NewReno(mss);
