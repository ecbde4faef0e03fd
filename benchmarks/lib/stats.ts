// Median [min..max] over rounds, and ratios paired by round.

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
