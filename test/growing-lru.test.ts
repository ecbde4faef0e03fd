// GrowingLru: lru-cache's bound and eviction order, without allocating the whole bound up front.
import { describe, expect, it } from 'vitest';
import { GrowingLru } from '../src/util/growing-lru.js';

describe('GrowingLru', () => {
  it('allocates nothing before its first entry, starts small, doubles as it fills, and never holds more than max', () => {
    const t = new GrowingLru<number, string>(1000, 8);
    expect(t.capacity).toBe(0); // most endpoints never hold a TIME_WAIT record or a path challenge
    expect(t.get(1)).toBeUndefined();
    expect(t.has(1) || t.delete(1)).toBe(false);
    t.set(0, 'v0');
    expect(t.capacity).toBe(8);
    for (let i = 1; i < 20; i++) t.set(i, `v${i}`);
    expect(t.size).toBe(20); // nothing evicted while it could grow
    expect(t.capacity).toBe(32);
    for (let i = 20; i < 3000; i++) t.set(i, `v${i}`);
    expect(t.capacity).toBe(1000);
    expect(t.size).toBe(1000);
    expect(t.has(1999)).toBe(false); // the oldest went
    expect(t.get(2999)).toBe('v2999');
  });

  it('keeps recency order across growth: the least recently used entry is evicted first', () => {
    const t = new GrowingLru<number, number>(16, 4);
    for (let i = 0; i < 4; i++) t.set(i, i);
    t.get(0); // 0 is now the most recent; 1 the least
    for (let i = 4; i < 16; i++) t.set(i, i); // grows 4 → 8 → 16
    t.set(100, 100); // full at max: evicts the least recently used
    expect(t.has(1)).toBe(false);
    expect(t.has(0)).toBe(true);
    expect(t.peek(2)).toBe(2);
    t.delete(2);
    expect(t.size).toBe(15);
  });

  it('refreshing a key when full does not grow or evict', () => {
    const t = new GrowingLru<number, number>(100, 2);
    t.set(1, 1);
    t.set(2, 2);
    t.set(2, 22);
    expect(t.capacity).toBe(2);
    expect(t.get(2)).toBe(22);
    expect(t.size).toBe(2);
  });
});
