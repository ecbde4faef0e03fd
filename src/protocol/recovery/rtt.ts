// Retransmission timeout per RFC 6298, plus the peer's maximum ACK delay as
// QUIC adds it to its probe timeout (RFC 9002 §6.2.1): a delayed ACK is then
// never mistaken for a loss, which lets the lower bound sit well under 200 ms.

export interface RtoOptions {
  /** Lower bound in ms (RFC 6298 §2.4 says 1 s; Linux uses 200 ms; safe lower with `maxAckDelay`). */
  rtoMin: number;
  /** Longest the peer may hold an ACK (its delayed-ACK timer), added to the estimate, ms. */
  maxAckDelay?: number;
  /** Upper bound in ms (RFC 6298 §2.5: at least 60 s). */
  rtoMax: number;
  /** Before any sample (RFC 6298 §2.1). */
  rtoInitial: number;
  /** Clock granularity G in ms. */
  granularity: number;
}

export const DEFAULT_RTO: RtoOptions = { rtoMin: 50, maxAckDelay: 25, rtoMax: 60_000, rtoInitial: 1000, granularity: 1 };

export class RttEstimator {
  srtt = 0;
  rttvar = 0;
  /** Base RTO from the estimate, before backoff. */
  private base: number;
  /** Consecutive timeouts; the RTO doubles with each (RFC 6298 §5.5). */
  backoff = 0;
  hasSample = false;
  latest = 0;
  minRtt = Infinity;

  constructor(private readonly o: RtoOptions) {
    this.base = o.rtoInitial;
  }

  /** RFC 6298 §2.2-2.3. */
  sample(rtt: number): void {
    const r = Math.max(0, rtt);
    this.latest = r;
    if (r < this.minRtt) this.minRtt = r;
    if (!this.hasSample) {
      this.srtt = r;
      this.rttvar = r / 2;
      this.hasSample = true;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.base = this.srtt + Math.max(this.o.granularity, 4 * this.rttvar) + (this.o.maxAckDelay ?? 0);
    // A fresh sample from a segment sent after the retransmission ends the backoff (RFC 6298 §5.7 note, Karn).
    this.backoff = 0;
  }

  /** Current RTO with backoff, clamped to [rtoMin, rtoMax] (RFC 6298 §2.4, §2.5). */
  get rto(): number {
    // Clamp before backing off, so each timeout doubles the RTO actually used (RFC 6298 §5.5).
    const v = Math.min(this.o.rtoMax, Math.max(this.o.rtoMin, this.base)) * 2 ** this.backoff;
    return Math.min(this.o.rtoMax, v);
  }

  /** Start over from `rto` ms without backoff (RFC 6298 §5.7), until the first sample. */
  restart(rto: number): void {
    this.base = rto;
    this.backoff = 0;
  }

  /** The RTO without backoff, clamped to [rtoMin, rtoMax]. */
  get baseRto(): number {
    return Math.min(this.o.rtoMax, Math.max(this.o.rtoMin, this.base));
  }

  /** RFC 6298 §5.5: back off the timer. */
  onTimeout(): void {
    if (this.rto < this.o.rtoMax) this.backoff++;
  }
}
