// `settle` drives the node:net-style API on virtual time (the README's example).
import { describe, expect, it } from 'vitest';
import { connect, createServer } from '../src/index.js';
import { SimNetwork, prngEnv, settle } from '../src/sim.js';

function run(seed: number) {
  const net = new SimNetwork({ seed, link: { loss: 0.2, reorder: 0.1, delay: [5, 40] } });
  const on = (address: string) => ({ transport: net.bind({ address, port: 7000 }), clock: net.clock, env: prngEnv(net.prng.fork()) });
  createServer(on('127.0.0.1'), (s) => s.pipe(s)).listen();
  const c = connect({ ...on('127.0.0.2'), port: 7000, host: '127.0.0.1' });
  const chunks: Buffer[] = [];
  c.on('data', (d: Buffer) => chunks.push(d));
  const data = Buffer.alloc(65536, 'x');
  c.end(data);
  return { net, c, chunks, data };
}

describe('settle', () => {
  it('runs Socket/Server over a 20% lossy simulated link to completion on virtual time', async () => {
    const { net, c, chunks, data } = run(42);
    const stoppedAt = await settle(net, { done: () => c.destroyed });
    expect(c.destroyed).toBe(true);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    expect(stoppedAt).toBe(net.now);
    expect(net.stats.dropped).toBeGreaterThan(0);
  });

  it('stops at `until` when `done` never holds, and the same seed gives the same trace', async () => {
    const a = run(7);
    await settle(a.net, { done: () => false, until: 2000 });
    expect(a.net.now).toBe(2000);
    const b = run(7);
    await settle(b.net, { done: () => false, until: 2000 });
    expect(b.net.traceHash()).toBe(a.net.traceHash());
  });

  it('the same seed gives the same trace whatever step settle is called with (invariant 12)', async () => {
    const hashes = new Set<string>();
    for (const step of [1, 50, 1000]) {
      const r = run(4);
      await settle(r.net, { done: () => r.c.destroyed, step });
      expect(Buffer.concat(r.chunks).equals(r.data)).toBe(true);
      hashes.add(r.net.traceHash());
    }
    expect(hashes.size).toBe(1);
  });
});
