// Deterministic test data and hashing for the examples and the demo.
import { createHash } from 'node:crypto';
import { Prng } from 'reliable-dgram/sim';

/** `size` bytes drawn from a seeded PRNG: same seed, same bytes. */
export function makeData(size: number, seed = 1): Buffer {
  const prng = new Prng(seed);
  const buf = Buffer.alloc(size);
  let i = 0;
  for (; i + 4 <= size; i += 4) buf.writeUInt32LE(prng.u32(), i);
  for (; i < size; i++) buf[i] = prng.u32() & 255;
  return buf;
}

export function sha256(data: Uint8Array | Uint8Array[]): string {
  const h = createHash('sha256');
  for (const d of Array.isArray(data) ? data : [data]) h.update(d);
  return h.digest('hex');
}

/** "msg 0" ... "msg n-1". */
export function messages(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `msg ${i}`);
}

/** Score a sequence of arrivals (item indices in arrival order) against 0..total-1. */
export interface ArrivalScore {
  total: number;
  /** Distinct items that arrived. */
  unique: number;
  missing: number;
  /** Arrivals of an item already seen. */
  duplicates: number;
  /** First arrivals of an item after a higher-numbered item had already arrived. */
  outOfOrder: number;
}

export function scoreArrivals(arrivals: Iterable<number>, total: number): ArrivalScore {
  const seen = new Uint8Array(total);
  let unique = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  let highest = -1;
  for (const i of arrivals) {
    if (!(i >= 0 && i < total)) continue;
    if (seen[i]) {
      duplicates++;
      continue;
    }
    seen[i] = 1;
    unique++;
    if (i < highest) outOfOrder++;
    else highest = i;
  }
  return { total, unique, missing: total - unique, duplicates, outOfOrder };
}

/** Parse "msg N" lines (complete lines only) into indices; -1 for a line that is not one. */
export function parseMessageLines(text: string): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = /^msg (\d+)$/.exec(line);
    out.push(m ? Number(m[1]) : -1);
  }
  return out;
}

export function formatBytes(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(2)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}
