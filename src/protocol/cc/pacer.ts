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

  /**
   * Take `size` bytes of budget, or say when there will be enough. The segment goes
   * now (running the bucket into debt that slows later ones) when the bucket is full,
   * since a segment larger than the cap (a path MTU probe) would otherwise wait forever,
   * or when the wait is shorter than the timer granularity, since a timer would round it
   * up to a whole tick and stall a small exchange.
   */
  take(now: number, size: number, rate: number, granularity = 1): number {
    const cap = this.refill(now, rate);
    const wait = (size - this.tokens) / rate;
    if (this.tokens >= Math.min(size, cap) || wait < granularity) {
      this.tokens -= size;
      return now;
    }
    return now + wait;
  }
}
