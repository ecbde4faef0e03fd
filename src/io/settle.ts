// Driving Socket/Server on the simulator: streams emit through process.nextTick
// and promises, so the event loop gets a turn after every simulator event, as
// Node gives one after every I/O callback and timer. That keeps Node's order:
// nextTick work runs before the batch's end (the clock's defer, setImmediate in
// Node). This needs setImmediate, hence it lives at the I/O edge.

import type { SimNetwork } from '../sim/network.js';

export interface SettleOptions {
  /** Stop when this returns true (checked between steps). */
  done?: () => boolean;
  /** Stop after this much virtual time (ms) from now. Default 600,000. */
  until?: number;
  /** At most this many virtual ms pass in one turn when no event is due sooner. Default 5. */
  step?: number;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Run `net` until `done()` holds, or the network has nothing left to do, or
 * `until` virtual ms have passed. Returns the virtual time it stopped at.
 */
export async function settle(net: SimNetwork, opts: SettleOptions = {}): Promise<number> {
  const limit = net.now + (opts.until ?? 600_000);
  const step = opts.step ?? 5;
  for (;;) {
    await turn();
    if (opts.done?.()) break;
    if (!opts.done && net.idle()) {
      await turn(); // deferred work (nextTick, promises) may schedule more
      if (net.idle()) break;
    }
    if (net.now >= limit) break;
    net.run({ until: Math.min(limit, net.now + step), maxEvents: 1 });
  }
  return net.now;
}
