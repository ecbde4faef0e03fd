// Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4). Every comparison of
// sequence or acknowledgment numbers in the project goes through here.

/** Add `n` to sequence number `a`, wrapping at 2^32. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** Signed distance `a - b` in [-2^31, 2^31). */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

export function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/** The later of two sequence numbers. */
export function seqMax(a: number, b: number): number {
  return seqGe(a, b) ? a : b;
}

/** The earlier of two sequence numbers. */
export function seqMin(a: number, b: number): number {
  return seqLe(a, b) ? a : b;
}

/** `lo <= x < hi` in sequence space. */
export function seqInRange(x: number, lo: number, hi: number): boolean {
  return seqLe(lo, x) && seqLt(x, hi);
}

/**
 * Binary search over `items`, in order of `key` and all within 2^31 of `base`: the index of the
 * first item whose key is after `seq` (at or after it, with `orAt`); `items.length` if none.
 */
export function seqSearch<T>(items: readonly T[], key: (item: T) => number, base: number, seq: number, orAt: boolean): number {
  const target = seqDiff(seq, base);
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const d = seqDiff(key(items[mid]!), base);
    if (orAt ? d < target : d <= target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
