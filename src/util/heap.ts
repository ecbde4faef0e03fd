// A binary min-heap ordered by a `before` function. Pure; used for timers.

export class MinHeap<T> {
  private readonly h: T[] = [];

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.h.length;
  }

  peek(): T | undefined {
    return this.h[0];
  }

  push(v: T): void {
    const h = this.h;
    h.push(v);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (!this.before(v, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = v;
  }

  pop(): T | undefined {
    const h = this.h;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    let i = 0;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && this.before(h[r]!, h[l]!)) c = r;
      if (!this.before(h[c]!, last)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
    return top;
  }

  /** Keep only the items for which `keep` is true (rebuilds the heap). */
  filter(keep: (v: T) => boolean): void {
    const kept = this.h.filter(keep);
    this.h.length = 0;
    for (const v of kept) this.push(v);
  }
}
