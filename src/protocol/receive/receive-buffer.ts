// The receive side of one connection: bytes ready for the app, segments held
// above a hole, and the window we offer (RFC 9293 §3.8.6). RCV.NXT itself stays
// with the connection and is passed in; ACK timing is the connection's too.

import { seqAdd, seqDiff, seqInRange, seqMax } from '../../wire/seq.js';
import type { SackBlock } from '../../wire/segment.js';
import { ByteQueue } from '../byte-queue.js';
import { Reassembly } from './reassembly.js';
import type { ConnectionOptions } from '../options.js';

/** Receive-buffer growth state (after Linux's dynamic right-sizing): made with the first RTT sample. */
interface RightSizing {
  /** The buffer the window is offered from, bytes. */
  space: number;
  /** Bytes the app read since `start`. */
  copied: number;
  start: number;
  /** The least RTT the receiver has seen (our TSval echoed back on data), ms. */
  rtt: number;
}

export class ReceiveBuffer {
  /** In-order bytes the app has not read. */
  private readonly q: ByteQueue;
  /** Out-of-order segments above RCV.NXT. */
  private reasm: Reassembly | null = null; // made at the first hole: most connections never see one
  /** RCV.NXT + RCV.WND as last advertised: it never moves left (RFC 9293 §3.8.6.2.2). */
  advEdge = 0;
  private drs: RightSizing | null = null;

  /** `alloc`: memory for a read that joins segments (see `ConnectionInit.alloc`). */
  constructor(
    private readonly opts: ConnectionOptions,
    alloc?: (size: number) => Uint8Array,
  ) {
    this.q = new ByteQueue(alloc);
  }

  /** Bytes ready to read. */
  get length(): number {
    return this.q.length;
  }

  /**
   * Every contiguous byte ready, up to `max`, as one chunk (as a TCP read returns what has
   * arrived), or null. A view when one segment holds them, else one copy joining the segments.
   */
  read(max: number): Uint8Array | null {
    const n = Math.min(this.q.length, max);
    if (n <= 0) return null;
    const out = this.q.slice(0, n);
    this.q.consume(n);
    return out;
  }

  /** The receive buffer now: `rcvBuf`, or what right-sizing grew it to. */
  get space(): number {
    return this.drs?.space ?? this.opts.rcvBuf;
  }

  /** An RTT sample, ms: data echoing the timestamp of one of our ACKs (RFC 7323 §4). */
  rttSample(ms: number, now: number): void {
    if (this.opts.maxRcvBuf <= this.opts.rcvBuf) return;
    const d = this.drs;
    if (d === null) this.drs = { space: this.opts.rcvBuf, copied: 0, start: now, rtt: ms };
    // The minimum, not a smoothed RTT: queueing that the window itself causes (a CPU-bound peer,
    // a full bottleneck queue) would otherwise lengthen the period, grow the window, and so on.
    else if (ms < d.rtt) d.rtt = ms;
  }

  /**
   * The app read `n` bytes. Once per RTT: if it read more than half the buffer in that RTT, the
   * window limited it; offer twice what it read (at most `maxRcvBuf`). A slow reader never grows it.
   */
  onRead(n: number, now: number): void {
    const d = this.drs;
    if (d === null) return;
    d.copied += n;
    if (now - d.start < Math.max(d.rtt, 1)) return;
    if (2 * d.copied > d.space) d.space = Math.min(this.opts.maxRcvBuf, 2 * d.copied);
    d.copied = 0;
    d.start = now;
  }

  /** Blocks changed since the last SACK report that it did not carry. */
  get unreportedBlocks(): number {
    return this.reasm?.unreported ?? 0;
  }

  get hasHoles(): boolean {
    return this.reasm !== null && !this.reasm.empty;
  }

  /** With holes: just past the highest byte held above them. */
  get heldEnd(): number {
    return this.reasm?.end ?? 0;
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
    const space = this.space;
    const avail = Math.max(0, space - this.q.length);
    let wnd = this.window(rcvNxt);
    if (avail - wnd >= Math.min(space / 2, this.opts.mss) || (avail > wnd && avail === space)) {
      wnd = avail;
    }
    this.advEdge = seqMax(this.advEdge, seqAdd(rcvNxt, wnd));
    return wnd;
  }

  /** After a read: has the window opened by a useful amount while the offered one is small? */
  windowUpdateDue(rcvNxt: number): boolean {
    const space = this.space;
    const avail = space - this.q.length;
    const wnd = this.window(rcvNxt);
    return avail - wnd >= Math.min(space / 2, this.opts.mss) && wnd < this.opts.mss * 2;
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
