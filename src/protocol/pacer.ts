// Pacing: spread a window's segments over the RTT instead of sending them in
// one burst. A token bucket filled at gain × cwnd / SRTT; the bucket holds a
// couple of milliseconds' worth so a ms-granular timer can keep up.

export class Pacer {
  private tokens: number;
  private last = -Infinity;

  constructor(private readonly mss: number) {
    this.tokens = 10 * mss;
  }

  /** Bytes per ms: twice the window per RTT in slow start, 1.25 × after (as Linux does). */
  rate(cwnd: number, srtt: number, slowStart: boolean): number {
    return ((slowStart ? 2 : 1.25) * cwnd) / Math.max(srtt, 0.05);
  }

  private refill(now: number, rate: number): number {
    const cap = Math.max(10 * this.mss, rate * 2);
    if (this.last === -Infinity) this.tokens = cap;
    else this.tokens = Math.min(cap, this.tokens + (now - this.last) * rate);
    this.last = now;
    return cap;
  }

  /** Take `size` bytes of budget if there is enough; otherwise the time there will be. */
  take(now: number, size: number, rate: number): number {
    const cap = this.refill(now, rate);
    // A full bucket lets any one segment go (it may run into debt): a segment larger than the cap,
    // e.g. a path MTU probe, would otherwise wait forever.
    if (this.tokens >= Math.min(size, cap)) {
      this.tokens -= size;
      return now;
    }
    return now + Math.max(0.05, (size - this.tokens) / rate);
  }
}
