// A bounded LRU table (lru-cache) that allocates as it fills. lru-cache preallocates
// its index arrays at `max` entries: a TIME_WAIT table of 16 384 costs ~1.4 ms and
// ~300 KB per endpoint up front, which a socket-per-connection client pays on every
// connect. This one is made at its first entry, starts small and doubles up to `max`,
// keeping recency order.

import { LRUCache } from 'lru-cache';

export class GrowingLru<K extends {}, V extends {}> {
  /** Made at the first `set`: most endpoints never hold a TIME_WAIT record or a path challenge. */
  private lru: LRUCache<K, V> | null = null;

  constructor(
    readonly max: number,
    private readonly initial = 64,
  ) {}

  get size(): number {
    return this.lru?.size ?? 0;
  }

  /** The table's current capacity (grows to `max`; 0 before the first entry). */
  get capacity(): number {
    return this.lru?.max ?? 0;
  }

  get(k: K): V | undefined {
    return this.lru?.get(k);
  }

  peek(k: K): V | undefined {
    return this.lru?.peek(k);
  }

  has(k: K): boolean {
    return this.lru?.has(k) ?? false;
  }

  delete(k: K): boolean {
    return this.lru?.delete(k) ?? false;
  }

  /** Insert or refresh; when full at `max`, the least recently used entry goes. */
  set(k: K, v: V): void {
    let lru = this.lru;
    if (lru === null) lru = this.lru = new LRUCache<K, V>({ max: Math.max(1, Math.min(this.max, this.initial)) });
    const cap = lru.max;
    if (lru.size >= cap && cap < this.max && !lru.has(k)) {
      const next = new LRUCache<K, V>({ max: Math.min(this.max, cap * 2) });
      // Oldest first, so recency order carries over.
      for (const key of lru.rkeys()) next.set(key, lru.peek(key)!);
      lru = this.lru = next;
    }
    lru.set(k, v);
  }
}
