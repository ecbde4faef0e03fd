// The receive side of one connection: bytes ready for the app, segments held
// above a hole, and the window we offer (RFC 9293 §3.8.6). RCV.NXT itself stays
// with the connection and is passed in; ACK timing is the connection's too.

import { seqAdd, seqDiff, seqInRange, seqMax } from '../wire/seq.js';
import type { SackBlock } from '../wire/segment.js';
import { ByteQueue, Reassembly } from './buffers.js';
import type { ConnectionOptions } from './options.js';

export class Receiver {
  /** In-order bytes the app has not read. */
  private readonly q = new ByteQueue();
  /** Out-of-order segments above RCV.NXT. */
  private reasm: Reassembly | null = null; // made at the first hole: most connections never see one
  /** RCV.NXT + RCV.WND as last advertised: it never moves left (RFC 9293 §3.8.6.2.2). */
  advEdge = 0;

  constructor(private readonly opts: ConnectionOptions) {}

  /** Bytes ready to read. */
  get length(): number {
    return this.q.length;
  }

  /** Next chunk for the app (at most `max` bytes), or null. */
  read(max: number): Uint8Array | null {
    return this.q.shift(max);
  }

  /** Blocks changed since the last SACK report that it did not carry. */
  get unreportedBlocks(): number {
    return this.reasm?.unreported ?? 0;
  }

  get hasHoles(): boolean {
    return this.reasm !== null && !this.reasm.empty;
  }

  /** Up to `max` SACK blocks, the most recently changed first (RFC 2018 §4). */
  sackBlocks(max: number): SackBlock[] {
    return this.reasm?.sackBlocks(max) ?? [];
  }

  /** RCV.WND: what is left of the window last advertised. */
  window(rcvNxt: number): number {
    return Math.max(0, seqDiff(this.advEdge, rcvNxt));
  }

  /** Segment acceptability, the four cases of RFC 9293 §3.10.7.4 (`wnd` = RCV.WND). */
  acceptable(seq: number, len: number, rcvNxt: number, wnd: number): boolean {
    if (len === 0) {
      if (wnd === 0) return seq === rcvNxt;
      return seqInRange(seq, rcvNxt, seqAdd(rcvNxt, wnd));
    }
    if (wnd === 0) return false;
    const end = seqAdd(seq, len - 1);
    const hi = seqAdd(rcvNxt, wnd);
    return seqInRange(seq, rcvNxt, hi) || seqInRange(end, rcvNxt, hi);
  }

  /** The window to advertise now, with receiver-side SWS avoidance (RFC 9293 §3.8.6.2.2). */
  advertise(rcvNxt: number): number {
    const avail = Math.max(0, this.opts.rcvBuf - this.q.length);
    let wnd = this.window(rcvNxt);
    if (avail - wnd >= Math.min(this.opts.rcvBuf / 2, this.opts.mss) || (avail > wnd && avail === this.opts.rcvBuf)) {
      wnd = avail;
    }
    this.advEdge = seqMax(this.advEdge, seqAdd(rcvNxt, wnd));
    return wnd;
  }

  /** After a read: has the window opened by a useful amount while the offered one is small? */
  windowUpdateDue(rcvNxt: number): boolean {
    const avail = this.opts.rcvBuf - this.q.length;
    const wnd = this.window(rcvNxt);
    return avail - wnd >= Math.min(this.opts.rcvBuf / 2, this.opts.mss) && wnd < this.opts.mss * 2;
  }

  /** Data at RCV.NXT, plus what it joins up with from reassembly. Returns the new RCV.NXT. */
  deliver(payload: Uint8Array, rcvNxt: number): number {
    this.q.push(payload);
    let nxt = seqAdd(rcvNxt, payload.length);
    if (this.reasm === null) return nxt;
    for (const c of this.reasm.take(nxt)) {
      this.q.push(c);
      nxt = seqAdd(nxt, c.length);
    }
    return nxt;
  }

  /** Data above a hole: kept until the hole fills. Returns how many of its bytes were new. */
  hold(seq: number, payload: Uint8Array): number {
    const reasm = (this.reasm ??= new Reassembly());
    const before = reasm.bytes;
    reasm.add(seq, payload);
    return reasm.bytes - before;
  }
}
