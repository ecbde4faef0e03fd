// The receive side's out-of-order segments and the SACK blocks they report (RFC 2018).

import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt, seqSearch } from '../../wire/seq.js';
import { MAX_SACK_BLOCKS, type SackBlock } from '../../wire/segment.js';

const NONE: readonly number[] = [];

interface OooSeg {
  start: number;
  end: number;
  data: Uint8Array;
}

/** A run of held bytes; `report` is the last report that carried it. */
interface HeldBlock extends SackBlock {
  report: number;
}

/** How many recently changed places the SACK generator remembers. */
const RECENT_MAX = MAX_SACK_BLOCKS;

/** Out-of-order segments above RCV.NXT, kept sorted and non-overlapping. */
export class Reassembly {
  private segs: OooSeg[] = [];
  bytes = 0;
  /**
   * Sequence numbers of the places most recently changed, newest first, one per block:
   * SACK reports blocks in this order (RFC 2018 §4), so a block stays reported for a
   * while after newer holes open above it.
   */
  private recent: number[] | null = null; // allocated on first use: most connections never see a hole
  /** Blocks changed since the last `sackBlocks` call that the last report did not carry. */
  unreported = 0;
  /** Block starts of the last report. */
  private reported: readonly number[] = NONE;
  /** Start of the block the last segment belongs to: appending finds its block without a walk. */
  private tailStart = 0;
  /**
   * The held runs as SACK blocks, in sequence order; null until first needed. Kept up to date by
   * appends, inserts and `take`, so a report costs O(blocks reported), not O(segments held).
   */
  private blocks: HeldBlock[] | null = null;
  /** Counts reports: a block whose `report` equals it is in the one being built. */
  private reports = 0;

  get empty(): boolean {
    return this.segs.length === 0;
  }

  /** Just past the highest byte held (meaningless when empty). */
  get end(): number {
    const segs = this.segs;
    return segs.length === 0 ? 0 : segs[segs.length - 1]!.end;
  }

  /** Store data starting at `seq`, keeping only bytes not already held. */
  add(seq: number, data: Uint8Array): void {
    const segs = this.segs;
    const last = segs[segs.length - 1];
    if (!last || seqLe(last.end, seq)) {
      // The usual case: above everything held.
      if (!last || last.end !== seq) this.tailStart = seq;
      const end = seqAdd(seq, data.length);
      segs.push({ start: seq, end, data });
      this.bytes += data.length;
      const blocks = this.blocks;
      if (blocks !== null) {
        const lb = blocks[blocks.length - 1];
        if (lb !== undefined && lb.end === seq) lb.end = end;
        else blocks.push({ start: seq, end, report: 0 });
      }
      this.touch(seq, this.tailStart, end);
    } else {
      const blocks = (this.blocks ??= this.buildBlocks());
      this.insert(seq, data, blocks);
      this.tailStart = blocks[blocks.length - 1]!.start;
      const b = blocks[lastBlockAtOrBelow(blocks, seq)]!; // seq's first byte is held now
      this.touch(seq, b.start, b.end);
    }
  }

  /** Below the top: fill the gaps `data` covers, each a new segment spliced in place, and the blocks with them. */
  private insert(seq: number, data: Uint8Array, blocks: HeldBlock[]): void {
    const segs = this.segs;
    let i = this.firstEndingAfter(seq);
    let start = seq;
    let d = data;
    while (d.length > 0) {
      const end = seqAdd(start, d.length);
      const next = segs[i];
      if (!next || seqLe(end, next.start)) {
        this.place(i, start, end, d, blocks);
        return;
      }
      if (seqLt(start, next.start)) this.place(i++, start, next.start, d.subarray(0, seqDiff(next.start, start)), blocks);
      // Skip the overlap with `next`.
      const skip = seqDiff(next.end, start);
      i++;
      if (skip >= d.length) return;
      d = d.subarray(Math.max(0, skip));
      start = next.end;
    }
  }

  /** Index of the first segment ending after `seq` (segments are sorted and disjoint): a binary search. */
  private firstEndingAfter(seq: number): number {
    return seqSearch(this.segs, segEnd, this.segs[0]!.start, seq, false);
  }

  /** Put [start, end) into a gap at index `i`; it extends, joins or adds a block. */
  private place(i: number, start: number, end: number, data: Uint8Array, blocks: HeldBlock[]): void {
    this.segs.splice(i, 0, { start, end, data });
    this.bytes += data.length;
    const k = lastBlockAtOrBelow(blocks, start); // -1 when below every block
    const prev = blocks[k];
    const next = blocks[k + 1];
    if (prev !== undefined && prev.end === start) {
      prev.end = end;
      if (next !== undefined && next.start === end) {
        prev.end = next.end;
        blocks.splice(k + 1, 1);
      }
    } else if (next !== undefined && next.start === end) {
      next.start = start;
    } else {
      blocks.splice(k + 1, 0, { start, end, report: 0 });
    }
  }

  /** `seq`, in block [bs, be), changed: it goes to the front of the recency list, replacing any place in the same block. */
  private touch(seq: number, bs: number, be: number): void {
    const r = (this.recent ??= []);
    const head = r[0];
    if (head !== undefined && seqLe(bs, head) && seqLt(head, be)) {
      r[0] = seq;
      return;
    }
    let w = 0;
    for (const x of r) if (!(seqLe(bs, x) && seqLt(x, be))) r[w++] = x;
    r.length = Math.min(w, RECENT_MAX - 1);
    r.unshift(seq);
    if (!this.reported.some((x) => seqLe(bs, x) && seqLt(x, be))) this.unreported++;
  }

  /** Remove and return data now contiguous with `rcvNxt`, dropping anything below it. */
  take(rcvNxt: number): Uint8Array[] {
    const got: Uint8Array[] = [];
    let nxt = rcvNxt;
    let removed = false;
    while (this.segs.length > 0) {
      const s = this.segs[0]!;
      if (seqGt(s.start, nxt)) break;
      removed = true;
      this.segs.shift();
      this.bytes -= s.data.length;
      if (seqGt(s.end, nxt)) {
        const part = s.data.subarray(seqDiff(nxt, s.start));
        got.push(part);
        nxt = s.end;
      }
    }
    if (removed && this.recent) this.recent = this.recent.filter((x) => seqGe(x, nxt));
    // What went was whole blocks from the bottom (blocks are maximal runs): drop them from the cache.
    const blocks = this.blocks;
    if (removed && blocks !== null) {
      let k = 0;
      while (k < blocks.length && seqLe(blocks[k]!.start, nxt)) k++;
      if (k > 0) blocks.splice(0, k);
    }
    return got;
  }

  /**
   * Up to `max` SACK blocks: the most recently changed first, then the next most recently
   * changed, then the rest in sequence order (RFC 2018 §4).
   */
  sackBlocks(max: number): SackBlock[] {
    const all = (this.blocks ??= this.buildBlocks());
    const id = ++this.reports;
    const out: HeldBlock[] = [];
    const recent = this.recent ?? NONE;
    for (const r of recent) {
      if (out.length >= max) break;
      const b = blockContaining(all, r);
      if (b && b.report !== id) {
        b.report = id;
        out.push(b);
      }
    }
    for (let i = 0; i < all.length && out.length < max; i++) {
      const b = all[i]!;
      if (b.report !== id) {
        b.report = id;
        out.push(b);
      }
    }
    this.reported = out.map((b) => b.start);
    this.unreported = 0;
    for (const r of recent) if (blockContaining(all, r)?.report !== id) this.unreported++;
    // Copies: the cached blocks change as data arrives, and a segment may be kept (a trace).
    return out.map((b) => ({ start: b.start, end: b.end }));
  }

  private buildBlocks(): HeldBlock[] {
    const all: HeldBlock[] = [];
    for (const s of this.segs) {
      const last = all[all.length - 1];
      if (last && last.end === s.start) last.end = s.end;
      else all.push({ start: s.start, end: s.end, report: 0 });
    }
    return all;
  }
}

/** Index of the last block of `blocks` (sorted, disjoint) starting at or below `seq`, or -1: a binary search. */
function lastBlockAtOrBelow(blocks: readonly HeldBlock[], seq: number): number {
  const first = blocks[0];
  return first === undefined ? -1 : seqSearch(blocks, blockStart, first.start, seq, false) - 1;
}

const segEnd = (s: OooSeg): number => s.end;
const blockStart = (b: HeldBlock): number => b.start;

/** The block of `blocks` (sorted, disjoint) holding `seq`. */
function blockContaining(blocks: readonly HeldBlock[], seq: number): HeldBlock | undefined {
  const b = blocks[lastBlockAtOrBelow(blocks, seq)];
  return b !== undefined && seqLt(seq, b.end) ? b : undefined;
}
