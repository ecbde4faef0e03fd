// The default congestion controller on the simulator (issue 17): it keeps its goodput under
// random loss, fills a bottleneck alone, and shares one with CUBIC (a stand-in for Linux TCP).
// Every figure is for DEFAULT_OPTIONS.congestion; with CUBIC as the default the random-loss and
// utilisation tests fail (CUBIC reads every loss as congestion), the sharing test passes (CUBIC
// against itself) and is there to catch a controller that starves TCP (BBR v1 takes ~84 % here).
import { describe, expect, it } from 'vitest';
import { cubic } from '../../src/protocol/cc/cubic.js';
import type { LinkOptions } from '../../src/sim/index.js';
import { simFlows } from '../helpers/sim-flows.js';
import { simTransfer } from '../helpers/sim-transfer.js';

const MSS = 1200;
/** Payload share of a full datagram: goodput of a link that carries nothing else. */
const PAYLOAD = MSS / (MSS + 32);

describe('default controller under random loss (each way)', () => {
  // 10 MB/s, 20 ms round trip, a drop-tail queue of one BDP (200 kB); 16 MB, about 2 s lossless.
  const link: Partial<LinkOptions> = { bandwidth: 10e6, delay: [10, 10], queueBytes: 200_000 };
  const size = 16 << 20;
  const goodput = (loss: number, n = size) => {
    const r = simTransfer(n, { link: { ...link, loss }, conn: { keepAlive: false }, seed: 3 });
    expect(r.received).toBe(n);
    return { gp: r.received / r.doneAt, net: r.net };
  };
  let clean: number | undefined;
  const lossless = () => (clean ??= goodput(0).gp);

  it('lossless: close to the link rate', () => {
    expect(lossless()).toBeGreaterThan(0.9 * 10e3 * PAYLOAD);
  });

  it('1 % loss keeps ≥ 85 % of the lossless goodput', () => {
    const { gp, net } = goodput(0.01);
    expect(net.stats.dropped).toBeGreaterThan(200);
    expect(gp).toBeGreaterThanOrEqual(0.85 * lossless());
  });

  it('5 % loss keeps ≥ 75 % of the lossless goodput', () => {
    const { gp, net } = goodput(0.05);
    expect(net.stats.dropped).toBeGreaterThan(1000);
    expect(gp).toBeGreaterThanOrEqual(0.75 * lossless());
  });

  it('20 % loss: 2 MB arrive, at ≥ 10 % of the lossless goodput', () => {
    const { gp } = goodput(0.2, 2 << 20);
    expect(gp).toBeGreaterThanOrEqual(0.1 * lossless());
  });
});

describe('default controller alone through a 100 Mbit/s bottleneck', () => {
  const bw = 12.5e6; // bytes per second
  /** Fraction of the link's payload capacity used in [from, until) ms. */
  const utilisation = (rtt: number, queueBdp: number, loss: number, from: number, until: number) => {
    const link = { bandwidth: bw, delay: [rtt / 2, rtt / 2] as [number, number], queueBytes: Math.round((bw * rtt * queueBdp) / 1000), loss };
    const r = simFlows({ link, flows: [{}], until, sampleEvery: 500 });
    return r.rate(0, from, until) / ((bw / 1000) * PAYLOAD);
  };

  it('20 ms, a queue of 1/4 BDP and 0.1 % random loss: ≥ 90 % utilisation (CUBIC: about 25 %)', () => {
    expect(utilisation(20, 0.25, 0.001, 1000, 4000)).toBeGreaterThanOrEqual(0.9);
  });

  it('100 ms, a queue of 1/4 BDP and 0.1 % random loss: ≥ 90 % utilisation from 2 s (CUBIC: about 15 %)', () => {
    expect(utilisation(100, 0.25, 0.001, 2000, 6000)).toBeGreaterThanOrEqual(0.9);
  });

  it('100 ms, a queue of 1 BDP, no loss: ≥ 90 % utilisation from 3 s (as CUBIC)', () => {
    expect(utilisation(100, 1, 0, 3000, 6000)).toBeGreaterThanOrEqual(0.9);
  });
});

describe('default controller sharing a bottleneck with CUBIC', () => {
  it('100 Mbit/s, 20 ms, a queue of 1 BDP: its share, averaged over five start offsets of the CUBIC flow, is within ±25 % of half', () => {
    const bw = 12.5e6;
    // 0.3 ms of delay jitter breaks the lockstep of two paced flows in a deterministic drop-tail queue.
    const link: Partial<LinkOptions> = { bandwidth: bw, delay: [10, 10.3], queueBytes: 250_000 };
    const until = 10_000;
    const shares = [0, 30, 100, 250, 1000].map((start) => {
      const r = simFlows({ link, flows: [{}, { conn: { congestion: cubic }, start }], until, sampleEvery: 500 });
      const a = r.rate(0, 2500, until);
      const b = r.rate(1, 2500, until);
      expect(a + b).toBeGreaterThan(0.9 * (bw / 1000) * PAYLOAD); // and the link stays full
      return a / (a + b);
    });
    const mean = shares.reduce((x, y) => x + y, 0) / shares.length;
    expect(mean).toBeGreaterThanOrEqual(0.375);
    expect(mean).toBeLessThanOrEqual(0.625);
  });
});
