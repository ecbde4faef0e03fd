// The idle timer behind socket.setTimeout(): fires once `ms` after the last
// activity, re-arms on the next activity (as net refreshes its unref'd timer).
// It runs on the endpoint's clock, so it is virtual time on the simulator.

import type { Clock, TimerHandle } from '../endpoint/types.js';

export class IdleTimer {
  private timer: TimerHandle | null = null;
  private ms = 0;
  private last = 0;

  constructor(
    private readonly clock: Clock,
    private readonly onIdle: () => void,
  ) {}

  /** Start over with `ms` (0 disables). */
  set(ms: number): void {
    this.clear();
    this.ms = ms;
    if (ms <= 0) return;
    this.last = this.clock.now();
    this.arm(this.last + ms);
  }

  /** Activity: push the deadline back (re-arming a timer that already fired). */
  touch(): void {
    if (this.ms <= 0) return;
    this.last = this.clock.now();
    if (!this.timer) this.arm(this.last + this.ms);
  }

  clear(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  private arm(at: number): void {
    this.timer = this.clock.setTimer(at, () => {
      this.timer = null;
      if (this.ms <= 0) return;
      const due = this.last + this.ms;
      if (this.clock.now() < due) this.arm(due);
      else this.onIdle();
    });
  }
}
