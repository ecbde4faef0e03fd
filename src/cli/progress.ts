// Progress on stderr: a bar redrawn in place on a terminal, one plain line a
// second otherwise (logs, CI, pipes). Time comes from a Ticker so the same
// code reports real seconds or the simulator's virtual ones.

import type { SocketStats } from 'reliable-dgram';
import { barProgress, plainProgress } from './format.js';

export interface Ticker {
  now(): number;
  /** Call `fn` every `ms`; returns a function that stops it. */
  every(ms: number, fn: () => void): () => void;
}

export const realTicker: Ticker = {
  now: () => performance.now(),
  every(ms, fn) {
    const t = setInterval(fn, ms);
    return () => clearInterval(t);
  },
};

export interface ProgressSource {
  bytes(): number;
  stats(): SocketStats | null;
}

export class Progress {
  private readonly t0: number;
  private lastT: number;
  private lastBytes = 0;
  private rate = 0;
  private stopTimer: (() => void) | null = null;
  private drawn = false;

  constructor(
    private readonly source: ProgressSource,
    private readonly ticker: Ticker,
    private readonly total: number | undefined,
    private readonly tty = process.stderr.isTTY === true,
    private readonly write: (s: string) => void = (s) => void process.stderr.write(s),
  ) {
    this.t0 = ticker.now();
    this.lastT = this.t0;
  }

  start(): this {
    this.stopTimer = this.ticker.every(this.tty ? 250 : 1000, () => this.report());
    return this;
  }

  private report(): void {
    const now = this.ticker.now();
    const bytes = this.source.bytes();
    const dt = now - this.lastT;
    // A smoothed rate on a terminal (redrawn 4 times a second), the interval's own in a log.
    const r = dt > 0 ? (bytes - this.lastBytes) / dt : 0;
    this.rate = this.tty && this.rate > 0 ? this.rate * 0.7 + r * 0.3 : r;
    this.lastT = now;
    this.lastBytes = bytes;
    const sample = { bytes, elapsed: now - this.t0, rate: this.rate, stats: this.source.stats(), ...(this.total !== undefined ? { total: this.total } : {}) };
    if (this.tty) {
      this.write(barProgress(sample));
      this.drawn = true;
    } else this.write(`${plainProgress(sample)}\n`);
  }

  /** Stop reporting; on a terminal, end the bar's line. */
  stop(): void {
    this.stopTimer?.();
    this.stopTimer = null;
    if (this.drawn) this.write('\n');
    this.drawn = false;
  }
}
