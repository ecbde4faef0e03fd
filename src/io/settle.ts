// Driving Socket/Server on the simulator: streams emit through process.nextTick
// and promises, so the event loop gets a turn after every simulator event, as
// Node gives one after every I/O callback and timer. That keeps Node's order:
// nextTick work runs before the batch's end (the clock's defer, setImmediate in
// Node). This needs setImmediate, hence it lives at the I/O edge.

import type { SimNetwork } from '../sim/network.js';

export interface SettleOptions {
  /** Stop when this returns true (checked after every simulator event and the app's work it caused). */
  done?: () => boolean;
  /** Stop after this much virtual time (ms) from now. Default 600,000. */
  until?: number;
  /**
   * Ignored (kept for compatibility). Virtual time moves from one simulator event to the next, and
   * only once the event loop has run the app's work (nextTick, promises, setImmediate) of the last:
   * the trace of a seed is the same however `settle` is called.
   */
  step?: number;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Run `net` until `done()` holds, or the network has nothing left to do, or
 * `until` virtual ms have passed. Returns the virtual time it stopped at.
 */
export async function settle(net: SimNetwork, opts: SettleOptions = {}): Promise<number> {
  const limit = net.now + (opts.until ?? 600_000);
  for (;;) {
    // Two turns: work the last event queued with setImmediate (a socket's 'close') may queue more.
    await turn();
    await turn();
    if (opts.done?.()) break;
    if (net.idle() && !opts.done) break;
    const next = net.clock.peekTime();
    if (next === undefined || next > limit) {
      net.run({ until: limit }); // nothing due before the limit: move the clock to it
      break;
    }
    net.run({ maxEvents: 1 });
  }
  return net.now;
}
