// The real clock: performance.now() and setTimeout, unref'd by default so that
// pending protocol timers never keep an otherwise idle process alive.
import { performance } from 'node:perf_hooks';
import type { Clock, TimerHandle } from '../endpoint/types.js';

export interface NodeClockOptions {
  /** Whether new timers keep the process alive (default false). */
  ref?: boolean;
}

/** setTimeout's ceiling; longer delays are armed in steps. */
const MAX_DELAY = 0x7fffffff;

class NodeTimer implements TimerHandle {
  private timeout: NodeJS.Timeout | null = null;

  constructor(
    private readonly clock: NodeClock,
    private readonly at: number,
    private readonly fn: () => void,
    private ref: boolean,
  ) {
    this.arm();
  }

  private arm(): void {
    // ceil: setTimeout works in whole ms on a cached loop time and may fire a
    // little early; fire() re-arms in that case so fn never runs before `at`.
    const delay = Math.min(MAX_DELAY, Math.max(0, Math.ceil(this.at - this.clock.now())));
    this.timeout = setTimeout(this.fire, delay);
    if (!this.ref) this.timeout.unref();
  }

  private readonly fire = (): void => {
    if (this.timeout === null) return;
    if (this.clock.now() < this.at) {
      this.arm();
      return;
    }
    this.timeout = null;
    this.fn();
  };

  cancel(): void {
    if (this.timeout === null) return;
    clearTimeout(this.timeout);
    this.timeout = null;
  }

  setRef(ref: boolean): void {
    this.ref = ref;
    if (this.timeout === null) return;
    if (ref) this.timeout.ref();
    else this.timeout.unref();
  }
}

export class NodeClock implements Clock {
  private readonly ref: boolean;

  constructor(opts: NodeClockOptions = {}) {
    this.ref = opts.ref ?? false;
  }

  /** Milliseconds (fractional, monotonic) since process start. */
  now(): number {
    return performance.now();
  }

  /** Call `fn` once, no earlier than absolute time `at`; past times fire on the next timers phase. */
  setTimer(at: number, fn: () => void): TimerHandle {
    return new NodeTimer(this, at, fn, this.ref);
  }

  /** Toggle whether one timer keeps the process alive. Handles from other clocks are ignored. */
  /** After this turn's I/O callbacks: setImmediate runs in the check phase that follows them. */
  defer(fn: () => void): void {
    setImmediate(fn);
  }

  setRef(timer: TimerHandle, ref: boolean): void {
    if (timer instanceof NodeTimer) timer.setRef(ref);
  }
}
