// Packetization-layer path MTU discovery (RFC 8899 DPLPMTUD): search upward from
// a safe base payload size with probe segments; a lost probe lowers the ceiling,
// an acknowledged one raises the floor. Sizes are payload bytes.

/** Stop searching when the bracket is this narrow. */
const RESOLUTION = 32;

export class PmtuSearch {
  /** Largest size confirmed to get through. */
  lo: number;
  /** Largest size not yet shown to fail. */
  hi: number;
  /** Size of the probe in flight, if any. */
  probing: number | undefined;
  probesLost = 0;
  /** The largest size searched for (the peer's MSS and ours). */
  readonly ceiling: number;

  constructor(
    readonly base: number,
    ceiling: number,
  ) {
    this.lo = base;
    this.hi = this.ceiling = Math.max(base, ceiling);
  }

  /**
   * The bracket is narrow, and the ceiling is confirmed or out of reach. A bisection alone stops
   * short of the ceiling, so once the bracket is narrow the ceiling itself is probed, once.
   */
  get done(): boolean {
    return this.hi - this.lo < RESOLUTION && (this.lo === this.hi || this.hi !== this.ceiling);
  }

  /** Size of the next probe, or undefined when none is due. */
  nextProbe(): number | undefined {
    if (this.probing !== undefined || this.done) return undefined;
    if (this.hi - this.lo < RESOLUTION) return this.hi; // the last step: the ceiling itself
    return this.lo + Math.ceil((this.hi - this.lo) / 2);
  }

  onProbeAcked(size: number): void {
    if (size > this.lo) this.lo = size;
    this.probing = undefined;
  }

  onProbeLost(size: number): void {
    this.probesLost++;
    if (size - 1 < this.hi) this.hi = Math.max(this.lo, size - 1);
    this.probing = undefined;
  }

  /** RFC 8899 §4.3 black-hole detection: the confirmed size stopped working; fall back to the base. */
  onBlackHole(failedSize: number): void {
    this.lo = this.base;
    this.hi = Math.max(this.base, failedSize - 1);
    this.probing = undefined;
  }
}
