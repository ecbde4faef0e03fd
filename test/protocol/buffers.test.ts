import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteQueue } from '../../src/protocol/byte-queue.js';
import { Reassembly } from '../../src/protocol/receive/reassembly.js';
import { SendQueue } from '../../src/protocol/send/send-queue.js';
import { seqAdd, seqDiff } from '../../src/wire/seq.js';

const bytes = (...v: number[]) => new Uint8Array(v);
const range = (from: number, n: number) => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);

describe('ByteQueue', () => {
  it('keeps FIFO order across chunks; slice views one chunk, copies across chunks', () => {
    const q = new ByteQueue();
    const a = bytes(1, 2, 3);
    q.push(a);
    q.push(new Uint8Array(0));
    q.push(bytes(4, 5));
    expect(q.length).toBe(5);
    const one = q.slice(1, 2);
    expect(Array.from(one)).toEqual([2, 3]);
    expect(one.buffer).toBe(a.buffer);
    expect(Array.from(q.slice(2, 3))).toEqual([3, 4, 5]);
    expect(Array.from(q.slice(3, 100))).toEqual([4, 5]);
    expect(q.slice(5, 1).length).toBe(0);
  });

  it('consume and shift drop from the head', () => {
    const q = new ByteQueue();
    q.push(bytes(1, 2, 3));
    q.push(bytes(4, 5));
    q.consume(2);
    expect(Array.from(q.slice(0, 10))).toEqual([3, 4, 5]);
    expect(Array.from(q.shift()!)).toEqual([3]);
    expect(Array.from(q.shift(1)!)).toEqual([4]);
    expect(Array.from(q.shift()!)).toEqual([5]);
    expect(q.shift()).toBeNull();
    expect(q.length).toBe(0);
  });

  it('property: behaves like a flat byte array under push/consume/shift/slice', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant('push' as const), d: fc.uint8Array({ maxLength: 20 }) }),
      fc.record({ k: fc.constant('consume' as const), n: fc.nat(30) }),
      fc.record({ k: fc.constant('shift' as const), n: fc.integer({ min: 1, max: 30 }) }),
      fc.record({ k: fc.constant('slice' as const), o: fc.nat(40), n: fc.nat(40) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), fc.boolean(), (ops, send) => {
        const q = send ? new SendQueue() : new ByteQueue(); // the send buffer's cursor must not change a result
        let model: number[] = [];
        for (const o of ops) {
          if (o.k === 'push') {
            q.push(o.d);
            model.push(...o.d);
          } else if (o.k === 'consume') {
            q.consume(o.n);
            model = model.slice(o.n);
          } else if (o.k === 'shift') {
            const c = q.shift(o.n);
            if (model.length === 0) expect(c).toBeNull();
            else {
              expect(c!.length).toBeGreaterThan(0);
              expect(Array.from(c!)).toEqual(model.slice(0, c!.length));
              expect(c!.length).toBeLessThanOrEqual(o.n);
              model = model.slice(c!.length);
            }
          } else {
            expect(Array.from(q.slice(o.o, o.n))).toEqual(model.slice(o.o, o.o + o.n));
          }
          expect(q.length).toBe(model.length);
        }
      }),
    );
  });
});

describe('SendQueue reading forward (a send loop)', () => {
  it('slices stay right while consumed chunks are compacted away under the read position', () => {
    const q = new SendQueue();
    const model: number[] = [];
    for (let c = 0; c < 300; c++) {
      const d = Uint8Array.from({ length: 7 + (c % 5) }, (_, i) => (c * 31 + i) & 0xff);
      q.push(d);
      model.push(...d);
    }
    let consumed = 0;
    for (let step = 0; step < 250; step++) {
      // Read ahead of the head, as sends do, then acknowledge some.
      for (const off of [85, 95]) {
        expect(Array.from(q.slice(off, 12))).toEqual(model.slice(consumed + off, consumed + off + 12));
      }
      q.consume(9);
      consumed += 9;
    }
    expect(q.length).toBe(model.length - consumed);
  });
});

describe('Reassembly', () => {
  it('holds out-of-order data and releases it once contiguous with RCV.NXT', () => {
    const r = new Reassembly();
    r.add(10, range(10, 5));
    r.add(20, range(20, 5));
    expect(r.take(0)).toEqual([]);
    expect(r.bytes).toBe(10);
    const got = r.take(10);
    expect(got.map((c) => Array.from(c))).toEqual([Array.from(range(10, 5))]);
    expect(r.empty).toBe(false);
    expect(r.take(15)).toEqual([]);
    expect(Array.from(r.take(20)[0]!)).toEqual(Array.from(range(20, 5)));
    expect(r.empty).toBe(true);
    expect(r.bytes).toBe(0);
  });

  it('keeps only new bytes of overlapping and duplicate segments', () => {
    const r = new Reassembly();
    r.add(10, range(10, 10)); // [10,20)
    r.add(15, range(15, 10)); // overlaps: adds [20,25)
    r.add(5, range(5, 30)); // covers all: adds [5,10) and [25,35)
    r.add(12, range(12, 3)); // duplicate
    expect(r.bytes).toBe(30);
    const out = Buffer.concat(r.take(5));
    expect(Array.from(out)).toEqual(Array.from(range(5, 30)));
  });

  it('take() trims data below RCV.NXT', () => {
    const r = new Reassembly();
    r.add(10, range(10, 10));
    const out = r.take(14);
    expect(Array.from(Buffer.concat(out))).toEqual(Array.from(range(14, 6)));
  });

  it('RFC 2018 §4: SACK blocks merge adjacent segments, the most recent first', () => {
    const r = new Reassembly();
    r.add(100, range(0, 10)); // [100,110)
    r.add(300, range(0, 10)); // [300,310)
    r.add(110, range(0, 10)); // [110,120), joins the first
    expect(r.sackBlocks(4)).toEqual([
      { start: 100, end: 120 },
      { start: 300, end: 310 },
    ]);
    r.add(500, range(0, 10));
    expect(r.sackBlocks(4)[0]).toEqual({ start: 500, end: 510 });
    r.add(305, range(0, 10)); // extends [300,310) to 315
    expect(r.sackBlocks(4)[0]).toEqual({ start: 300, end: 315 });
    expect(r.sackBlocks(2).length).toBe(2);
  });

  it('RFC 2018 §4: later blocks are the most recently changed, so a block stays reported after newer holes open', () => {
    const r = new Reassembly();
    // Six blocks arriving in sequence order, one hole before each: [100,110) [200,210) ... [600,610).
    for (let k = 1; k <= 6; k++) r.add(k * 100, range(0, 10));
    // In order of change: 600, 500, 400, 300. The lowest blocks do not push out the recent ones.
    expect(r.sackBlocks(4).map((b) => b.start)).toEqual([600, 500, 400, 300]);
    r.add(210, range(0, 10)); // [200,220) changes
    expect(r.sackBlocks(4).map((b) => b.start)).toEqual([200, 600, 500, 400]);
    // Room left over after the recent ones goes to the rest in sequence order.
    const many = new Reassembly();
    for (const k of [5, 1, 3]) many.add(k * 100, range(0, 10));
    expect(many.sackBlocks(8).map((b) => b.start)).toEqual([300, 100, 500]);
  });

  it('counts blocks that changed since the last report and are not in it', () => {
    const r = new Reassembly();
    r.add(100, range(0, 10));
    r.add(110, range(0, 10)); // same block
    expect(r.unreported).toBe(1);
    r.sackBlocks(4);
    expect(r.unreported).toBe(0);
    r.add(120, range(0, 10)); // grows a reported block
    expect(r.unreported).toBe(0);
    r.add(300, range(0, 10));
    r.add(500, range(0, 10));
    expect(r.unreported).toBe(2);
    r.sackBlocks(4);
    expect(r.unreported).toBe(0);
  });

  it('works across the 2^32 wrap', () => {
    const r = new Reassembly();
    const lo = 0xfffffffa;
    r.add(seqAdd(lo, 10), range(0, 5)); // [4, 9)
    r.add(lo, range(0, 8)); // [0xfffffffa, 2)
    expect(r.sackBlocks(4)).toEqual([
      { start: lo, end: 2 },
      { start: 4, end: 9 },
    ]);
    expect(Buffer.concat(r.take(lo)).length).toBe(8);
    expect(r.sackBlocks(4)).toEqual([{ start: 4, end: 9 }]);
  });

  it('property: whatever the order and overlap, the bytes come out once, in order', () => {
    const TOTAL = 200;
    const piece = fc.record({ off: fc.nat(TOTAL - 1), len: fc.integer({ min: 1, max: 40 }) });
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40, size: 'max' }), fc.integer({ min: 0, max: 0xffffffff }), (pieces, base) => {
        const data = range(7, TOTAL);
        const r = new Reassembly();
        let nxt = base;
        const out: number[] = [];
        let seq0: number | undefined;
        const deliver = (seq: number, d: Uint8Array) => {
          // What the connection does: in order goes straight out, the rest is held.
          const skip = seqDiff(nxt, seq);
          if (skip >= d.length) return;
          if (skip > 0) {
            d = d.subarray(skip);
            seq = nxt;
          }
          if (seq === nxt) {
            out.push(...d);
            nxt = seqAdd(nxt, d.length);
            for (const c of r.take(nxt)) {
              out.push(...c);
              nxt = seqAdd(nxt, c.length);
            }
          } else {
            r.add(seq, d);
            seq0 = seq;
          }
        };
        for (const p of pieces) {
          seq0 = undefined;
          const len = Math.min(p.len, TOTAL - p.off);
          deliver(seqAdd(base, p.off), data.subarray(p.off, p.off + len));
          // SACK blocks are sorted apart from the first, disjoint, non-adjacent, above RCV.NXT.
          const reported = r.sackBlocks(100);
          // The first block holds the latest bytes added, if they are still held (RFC 2018 §4).
          if (seq0 !== undefined && seqDiff(seq0, nxt) > 0) {
            expect(seqDiff(seq0, reported[0]!.start)).toBeGreaterThanOrEqual(0);
            expect(seqDiff(reported[0]!.end, seq0)).toBeGreaterThan(0);
          }
          // Fewer slots take a prefix of the same choice.
          expect(r.sackBlocks(2)).toEqual(reported.slice(0, 2));
          const blocks = reported.slice().sort((a, b) => seqDiff(a.start, b.start));
          for (let i = 0; i < blocks.length; i++) {
            expect(seqDiff(blocks[i]!.end, blocks[i]!.start)).toBeGreaterThan(0);
            expect(seqDiff(blocks[i]!.start, nxt)).toBeGreaterThan(0);
            if (i > 0) expect(seqDiff(blocks[i]!.start, blocks[i - 1]!.end)).toBeGreaterThan(0);
          }
        }
        deliver(base, data); // finally everything
        expect(out).toEqual(Array.from(data));
        expect(r.empty).toBe(true);
        expect(r.bytes).toBe(0);
      }),
    );
  });
});

describe('Reassembly SACK blocks (kept up to date, not rebuilt per report)', () => {
  it('property: every report lists maximal held runs, as many as fit, the latest change first', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant('add' as const), off: fc.integer({ min: 1, max: 400 }), n: fc.integer({ min: 1, max: 30 }) }),
      fc.record({ k: fc.constant('append' as const), gap: fc.integer({ min: 0, max: 3 }), n: fc.integer({ min: 1, max: 30 }) }),
      fc.record({ k: fc.constant('take' as const), adv: fc.integer({ min: 0, max: 60 }) }),
      fc.record({ k: fc.constant('report' as const), max: fc.integer({ min: 1, max: 16 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.array(op, { maxLength: 120, size: 'max' }), (base, ops) => {
        const r = new Reassembly();
        const held = new Set<number>(); // offsets from base held out of order
        let nxt = 0; // RCV.NXT, as an offset
        let top = 0;
        let latest = -1;
        const seq = (off: number) => (base + off) >>> 0;
        for (const o of ops) {
          if (o.k === 'add' || o.k === 'append') {
            const at = o.k === 'add' ? nxt + o.off : Math.max(top, nxt + 1) + o.gap;
            r.add(seq(at), new Uint8Array(o.n));
            for (let i = 0; i < o.n; i++) held.add(at + i);
            top = Math.max(top, at + o.n);
            latest = at;
          } else if (o.k === 'take') {
            // RCV.NXT moves (in-order data arrived), then whatever joins it is taken.
            nxt += o.adv;
            for (const x of [...held]) if (x < nxt) held.delete(x);
            r.take(seq(nxt));
            while (held.has(nxt)) held.delete(nxt++);
          } else {
            const runs: Array<[number, number]> = [];
            for (const x of [...held].sort((a, b) => a - b)) {
              const last = runs[runs.length - 1];
              if (last && last[1] === x) last[1] = x + 1;
              else runs.push([x, x + 1]);
            }
            const got = r.sackBlocks(o.max).map((b) => [(b.start - base) >>> 0, (b.end - base) >>> 0] as [number, number]);
            expect(got.length).toBe(Math.min(o.max, runs.length));
            for (const b of got) expect(runs).toContainEqual(b);
            expect(new Set(got.map((b) => b[0])).size).toBe(got.length);
            if (latest >= 0 && held.has(latest)) expect(got[0]![0] <= latest && latest < got[0]![1]).toBe(true);
          }
        }
      }),
      { seed: 4243, numRuns: 400 },
    );
  });
});
