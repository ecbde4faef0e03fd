// A bounded LRU table (lru-cache) that allocates as it fills. lru-cache preallocates
// its index arrays at `max` entries: a TIME_WAIT table of 16 384 costs ~1.4 ms and
// ~300 KB per endpoint up front, which a socket-per-connection client pays on every
// connect. This one starts small and doubles up to `max`, keeping recency order.

import { LRUCache } from 'lru-cache';

export class GrowingLru<K extends {}, V extends {}> {
  private lru: LRUCache<K, V>;

  constructor(
    readonly max: number,
    initial = 64,
  ) {
    this.lru = new LRUCache<K, V>({ max: Math.max(1, Math.min(max, initial)) });
  }

  get size(): number {
    return this.lru.size;
  }

  /** The table's current capacity (grows to `max`). */
  get capacity(): number {
    return this.lru.max;
  }

  get(k: K): V | undefined {
    return this.lru.get(k);
  }

  peek(k: K): V | undefined {
    return this.lru.peek(k);
  }

  has(k: K): boolean {
    return this.lru.has(k);
  }

  delete(k: K): boolean {
    return this.lru.delete(k);
  }

  /** Insert or refresh; when full at `max`, the least recently used entry goes. */
  set(k: K, v: V): void {
    const cap = this.lru.max;
    if (this.lru.size >= cap && cap < this.max && !this.lru.has(k)) {
      const next = new LRUCache<K, V>({ max: Math.min(this.max, cap * 2) });
      // Oldest first, so recency order carries over.
      for (const key of this.lru.rkeys()) next.set(key, this.lru.peek(key)!);
      this.lru = next;
    }
    this.lru.set(k, v);
  }
}
