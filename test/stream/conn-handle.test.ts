// ConnHandle's write task: the first write of a JS task flushes at once, later ones share one flush
// when the task ends; an exception thrown by that flush (an app's event handler runs inside it)
// surfaces as an uncaught exception, as from queueMicrotask, never as a rejected promise.
import { afterEach, describe, expect, test, vi } from 'vitest';
import type { Clock } from '../../src/endpoint/types.js';
import type { Connection } from '../../src/protocol/connection.js';
import { ConnHandle } from '../../src/stream/conn-handle.js';
import type { LocalEndpoint } from '../../src/stream/local-endpoint.js';

function handle(service: () => void): ConnHandle {
  const conn = { write: (d: Uint8Array) => d.length } as unknown as Connection;
  const ep = { service } as unknown as LocalEndpoint;
  const clock = { now: () => 0 } as unknown as Clock;
  return new ConnHandle(conn, ep, clock);
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('ConnHandle write task', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  test('the first write flushes in the call, the rest of the task once at its end', async () => {
    let flushes = 0;
    const h = handle(() => flushes++);
    h.write(new Uint8Array(1));
    h.write(new Uint8Array(1));
    h.write(new Uint8Array(1));
    expect(flushes).toBe(1);
    await tick();
    expect(flushes).toBe(2);
    h.write(new Uint8Array(1)); // a new task: at once again
    expect(flushes).toBe(3);
    await tick();
    expect(flushes).toBe(3); // nothing was left for its end
  });

  test('a throw from the task-end flush is rethrown from a microtask (uncaught), not left as a rejection', async () => {
    const boom = new Error('from an event handler');
    let calls = 0;
    const h = handle(() => {
      if (++calls === 2) throw boom;
    });
    const queued: Array<() => void> = [];
    vi.stubGlobal('queueMicrotask', (fn: () => void) => queued.push(fn));
    const rejections: unknown[] = [];
    const onRejection = (r: unknown): number => rejections.push(r);
    process.on('unhandledRejection', onRejection);
    try {
      h.write(new Uint8Array(1));
      h.write(new Uint8Array(1));
      await tick();
      await tick();
    } finally {
      process.off('unhandledRejection', onRejection);
    }
    expect(calls).toBe(2);
    expect(rejections).toEqual([]);
    expect(queued).toHaveLength(1);
    expect(() => queued[0]!()).toThrow(boom);
  });
});
