import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RTO, RttEstimator } from '../../src/protocol/recovery/rtt.js';

const opts = { rtoMin: 200, rtoMax: 60_000, rtoInitial: 1000, granularity: 1 };

describe('RttEstimator (RFC 6298)', () => {
  it('RFC 6298 §2.1: before a sample the RTO is the initial value (1 s by default)', () => {
    expect(new RttEstimator(DEFAULT_RTO).rto).toBe(1000);
    expect(new RttEstimator({ ...opts, rtoInitial: 3000 }).rto).toBe(3000);
  });

  it('RFC 6298 §2.2: the first sample sets SRTT = R, RTTVAR = R/2, RTO = SRTT + max(G, 4·RTTVAR)', () => {
    const r = new RttEstimator(opts);
    r.sample(400);
    expect(r.srtt).toBe(400);
    expect(r.rttvar).toBe(200);
    expect(r.rto).toBe(1200);
  });

  it('RFC 6298 §2.3: later samples use alpha = 1/8, beta = 1/4 (RTTVAR first, with the old SRTT)', () => {
    const r = new RttEstimator(opts);
    r.sample(400);
    r.sample(800);
    expect(r.rttvar).toBe(0.75 * 200 + 0.25 * 400);
    expect(r.srtt).toBe(0.875 * 400 + 0.125 * 800);
    expect(r.rto).toBe(r.srtt + 4 * r.rttvar);
  });

  it('RFC 6298 §2.2: the variance term is at least the clock granularity G', () => {
    const r = new RttEstimator({ ...opts, rtoMin: 0, granularity: 50 });
    for (let i = 0; i < 100; i++) r.sample(300); // RTTVAR decays toward 0
    expect(r.rto).toBeCloseTo(350, 0);
  });

  it('RFC 6298 §2.4: the RTO is never below rtoMin', () => {
    const r = new RttEstimator(opts);
    r.sample(1);
    expect(r.rto).toBe(200);
  });

  it('RFC 6298 §2.5: the RTO is never above rtoMax', () => {
    const r = new RttEstimator({ ...opts, rtoMax: 5000 });
    r.sample(10_000);
    expect(r.rto).toBe(5000);
  });

  it('RFC 6298 §5.5: each timeout doubles the RTO actually used, from the clamped value, up to rtoMax', () => {
    const r = new RttEstimator({ ...opts, rtoMax: 5000 });
    r.sample(10); // base 30, clamped to 200
    const seen = [r.rto];
    for (let i = 0; i < 7; i++) {
      r.onTimeout();
      seen.push(r.rto);
    }
    expect(seen).toEqual([200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
  });

  it('RFC 6298 §5.7: a new sample after backoff recomputes the RTO from the estimate', () => {
    const r = new RttEstimator(opts);
    r.sample(100);
    r.onTimeout();
    r.onTimeout();
    expect(r.rto).toBe(1200);
    r.sample(100);
    expect(r.backoff).toBe(0);
    expect(r.rto).toBeLessThan(400);
  });

  it('negative samples count as zero', () => {
    const r = new RttEstimator({ ...opts, rtoMin: 0 });
    r.sample(-5);
    expect(r.srtt).toBe(0);
    expect(r.minRtt).toBe(0);
  });

  it('property: the RTO stays in [rtoMin, rtoMax] and never shrinks on a timeout', () => {
    const step = fc.oneof(
      fc.integer({ min: 0, max: 200_000 }).map((v) => ({ sample: v })),
      fc.constant({ sample: -1 }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const r = new RttEstimator(opts);
        for (const s of steps) {
          const before = r.rto;
          if (s.sample < 0) {
            r.onTimeout();
            expect(r.rto).toBeGreaterThanOrEqual(before);
            if (before < opts.rtoMax) expect(r.rto).toBe(Math.min(opts.rtoMax, 2 * before));
          } else {
            r.sample(s.sample);
          }
          expect(r.rto).toBeGreaterThanOrEqual(opts.rtoMin);
          expect(r.rto).toBeLessThanOrEqual(opts.rtoMax);
        }
      }),
    );
  });
});
