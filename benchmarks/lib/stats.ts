// Median [min..max] over rounds, ratios paired by round, percentiles, and the
// arithmetic of the timed figures (second-half goodput, share of a bottleneck).

export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function summarise(values: ReadonlyArray<number | null | undefined>): Summary | null {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { median, min: v[0]!, max: v[v.length - 1]!, n: v.length };
}

/**
 * x ÷ base, computed round by round (both measured in the same round, next to
 * each other in time), then summarised. Rounds where either is missing are skipped.
 */
export function pairedRatio(x: ReadonlyArray<number | null>, base: ReadonlyArray<number | null>): Summary | null {
  const r: number[] = [];
  for (let i = 0; i < Math.min(x.length, base.length); i++) {
    const a = x[i];
    const b = base[i];
    if (typeof a === 'number' && typeof b === 'number' && b !== 0 && Number.isFinite(a) && Number.isFinite(b)) r.push(a / b);
  }
  return summarise(r);
}

/**
 * The p-quantile (0 < p ≤ 1) of ascending `sorted` by the nearest-rank method:
 * the smallest value with at least p·n values at or below it. NaN when empty.
 * p99 of 100 values is the 99th, of 1000 the 990th.
 */
export function percentile(sorted: ReadonlyArray<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  // The 1e-9 absorbs binary rounding (0.99 × 100 = 99.00000000000001 would otherwise round up to 100).
  const rank = Math.ceil(p * sorted.length - 1e-9);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/**
 * Payload rate over the second half of a timed run, MB/s (10⁶ bytes): `bins` are
 * bytes per `binMs` from the start; the run's `durationMs` gives n = round(duration ÷ bin)
 * bins, of which bins floor(n/2)..n−1 count (a missing bin is 0 bytes).
 */
export function secondHalfMBps(bins: ReadonlyArray<number>, durationMs: number, binMs: number): number {
  const n = Math.round(durationMs / binMs);
  const from = Math.floor(n / 2);
  if (n - from <= 0) return NaN;
  let sum = 0;
  for (let i = from; i < n; i++) sum += bins[i] ?? 0;
  return sum / 1e6 / (((n - from) * binMs) / 1000);
}

/**
 * Two flows through one bottleneck: `x`'s share of their total, and that share
 * ÷ an equal share (2x ÷ (x + y): 1 is a fair split, 2 is x taking everything,
 * 0 is x starved). Null when either is missing or both are 0.
 */
export function shareOf(x: number | null, y: number | null): { fraction: number; ofEqual: number } | null {
  if (x === null || y === null || !Number.isFinite(x) || !Number.isFinite(y) || x < 0 || y < 0 || x + y === 0) return null;
  const fraction = x / (x + y);
  return { fraction, ofEqual: 2 * fraction };
}

export function fmt(x: number, digits: number): string {
  if (!Number.isFinite(x)) return '–';
  const d = Math.abs(x) >= 1000 ? 0 : digits;
  return x.toFixed(d);
}

export function fmtSummary(s: Summary | null, digits: number): string {
  if (!s) return '–';
  if (s.n === 1) return fmt(s.median, digits);
  return `${fmt(s.median, digits)} [${fmt(s.min, digits)}..${fmt(s.max, digits)}]`;
}
