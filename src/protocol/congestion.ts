// Congestion control: the interface every controller implements, and NewReno
// (RFC 5681, RFC 6582). Sizes are in bytes.

import type { RateSample } from './delivery.js';

export type { RateSample };

export interface CongestionController {
  readonly name: string;
  /** Congestion window in bytes. */
  readonly cwnd: number;
  readonly ssthresh: number;
  /** New data was cumulatively acknowledged outside recovery. */
  onAck(ackedBytes: number, now: number, rtt: number, bytesInFlight: number): void;
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
    private readonly mss: number,
    private readonly initialWindow = 10,
  ) {
    this.cwnd = initialWindow * mss;
  }

  onAck(acked: number): void {
    if (this.cwnd < this.ssthresh) {
      // Slow start with byte counting, at most 2·SMSS per ACK (RFC 3465 §2.2, L=2): delayed
      // and coalesced ACKs each cover several segments.
      this.cwnd += Math.min(acked, 2 * this.mss);
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
}

export const newReno: CongestionFactory = (mss) => new NewReno(mss);
