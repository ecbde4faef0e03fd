// The benchmark harness's arithmetic: how the second-half CPU figure reads the
// sender's sampled CPU time off at the receiver's half-way and end times.
import { describe, expect, it } from 'vitest';
import { interpolate } from '../benchmarks/lib/common.js';

describe('interpolate (benchmarks/lib/common.ts)', () => {
  const samples: Array<[number, number]> = [[100, 0], [110, 4], [120, 4], [130, 10]];

  it('reads a sample exactly at its time and linearly between two', () => {
    expect(interpolate(samples, 110)).toBe(4);
    expect(interpolate(samples, 105)).toBe(2);
    expect(interpolate(samples, 115)).toBe(4); // flat: no CPU used between 110 and 120
    expect(interpolate(samples, 127.5)).toBeCloseTo(8.5, 10);
  });

  it('clamps outside the sampled span, and is NaN with no samples', () => {
    expect(interpolate(samples, 50)).toBe(0);
    expect(interpolate(samples, 500)).toBe(10);
    expect(interpolate([], 1)).toBeNaN();
  });

  it('a sampled difference over a window is the CPU used in it', () => {
    expect(interpolate(samples, 130) - interpolate(samples, 105)).toBe(8);
  });
});
