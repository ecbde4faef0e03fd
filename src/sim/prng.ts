// Seeded pseudo-random numbers for the simulator: sfc32, seeded through
// splitmix32 from a 32-bit integer. Same seed, same stream, on every platform.

import type { Env } from '../endpoint/types.js';

const TWO_POW_NEG_32 = 1 / 4294967296;

/** splitmix32 step: returns [next state, output]. */
function splitmix32(state: number): [number, number] {
  const s = (state + 0x9e3779b9) | 0;
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [s, z >>> 0];
}

/** A small, fast, seeded PRNG (sfc32). Not for security use. */
export class Prng {
  /** The (normalised, unsigned 32-bit) seed this stream was built from. */
  readonly seed: number;
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed = 1) {
    if (!Number.isFinite(seed)) throw new RangeError(`Prng seed must be finite, got ${seed}`);
    this.seed = Math.trunc(seed) >>> 0;
    let s = this.seed;
    let out: number;
    [s, out] = splitmix32(s);
    this.a = out | 0;
    [s, out] = splitmix32(s);
    this.b = out | 0;
    [s, out] = splitmix32(s);
    this.c = out | 0;
    [, out] = splitmix32(s);
    this.d = out | 0;
    // Warm up so that close seeds diverge fully.
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A uniformly random unsigned 32-bit integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.u32() * TWO_POW_NEG_32;
  }

  /** An integer uniformly drawn from [lo, hiInclusive]. */
  int(lo: number, hiInclusive: number): number {
    if (!Number.isInteger(lo) || !Number.isInteger(hiInclusive) || hiInclusive < lo) {
      throw new RangeError(`Prng.int: bad range [${lo}, ${hiInclusive}]`);
    }
    return lo + Math.floor(this.next() * (hiInclusive - lo + 1));
  }

  /** True with probability `p`. Always consumes exactly one draw. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A new, independent stream derived deterministically from this one (consumes one draw). */
  fork(): Prng {
    return new Prng(this.u32());
  }
}

/** An `Env` whose randomness comes from `prng`. */
export function prngEnv(prng: Prng): Env {
  return { random32: () => prng.u32() };
}
