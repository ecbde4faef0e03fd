// A virtual clock: time only moves when the simulator runs the next event.
// Events sit in a binary min-heap keyed by (time, insertion sequence), so
// events due at the same instant run in the order they were scheduled.

import type { Clock, TimerHandle } from '../endpoint/types.js';
import { MinHeap } from '../util/heap.js';

interface SimEvent {
  time: number;
  seq: number;
  fn: (() => void) | null; // null once cancelled or run
}

function before(x: SimEvent, y: SimEvent): boolean {
  return x.time < y.time || (x.time === y.time && x.seq < y.seq);
}

export class VirtualClock implements Clock {
  private t: number;
  private seq = 0;
  private live = 0;
  private readonly heap = new MinHeap<SimEvent>(before);

  constructor(start = 0) {
    if (!Number.isFinite(start)) throw new RangeError(`VirtualClock start must be finite, got ${start}`);
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  /** Run `fn` once at virtual time `at` (a time in the past means "now", after what is already due). */
  setTimer(at: number, fn: () => void): TimerHandle {
    if (Number.isNaN(at) || at === Infinity) throw new RangeError(`VirtualClock.setTimer: bad time ${at}`);
    const ev: SimEvent = { time: Math.max(at, this.t), seq: this.seq++, fn };
    this.push(ev);
    this.live++;
    return {
      cancel: () => {
        if (ev.fn !== null) {
          ev.fn = null;
          this.live--;
          this.compactIfSparse();
        }
      },
    };
  }

  /** Virtual timers never keep a process alive. */
  setRef(_timer: TimerHandle, _ref: boolean): void {}

  /** After everything already due now. */
  defer(fn: () => void): void {
    this.setTimer(this.t, fn);
  }

  /** Number of scheduled events not yet run or cancelled. */
  pending(): number {
    return this.live;
  }

  /** Time of the next live event, or undefined when nothing is scheduled. */
  peekTime(): number | undefined {
    this.dropDead();
    return this.heap.peek()?.time;
  }

  /** Advance to the next event and run it. False when the queue is empty. */
  runNext(): boolean {
    this.dropDead();
    const ev = this.pop();
    if (ev === undefined) return false;
    const fn = ev.fn;
    ev.fn = null;
    this.live--;
    if (ev.time > this.t) this.t = ev.time;
    fn?.();
    return true;
  }

  /** Move time forward to `t` without running anything; refuses to skip a due event. */
  advanceTo(t: number): void {
    if (!Number.isFinite(t)) throw new RangeError(`VirtualClock.advanceTo: bad time ${t}`);
    if (t <= this.t) return;
    const next = this.peekTime();
    if (next !== undefined && next < t) {
      throw new Error(`VirtualClock.advanceTo(${t}) would skip an event due at ${next}`);
    }
    this.t = t;
  }

  /** Cancelled events stay in the heap until popped; rebuild when they dominate. */
  private compactIfSparse(): void {
    if (this.heap.size < 256 || this.live * 2 > this.heap.size) return;
    this.heap.filter((e) => e.fn !== null);
  }

  private dropDead(): void {
    while (this.heap.size > 0 && this.heap.peek()!.fn === null) this.heap.pop();
  }

  private push(ev: SimEvent): void {
    this.heap.push(ev);
  }

  private pop(): SimEvent | undefined {
    return this.heap.pop();
  }
}
