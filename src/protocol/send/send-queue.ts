// The send buffer, from SND.UNA on (RFC 9293 §3.3.1).

import { ByteQueue } from '../byte-queue.js';

const EMPTY = new Uint8Array(0);

/**
 * The send buffer: a ByteQueue that remembers where the last slice was found, since sends read
 * forward through it (a walk from the head per segment costs the number of chunks). Apart so the
 * receive side's queue, which only shifts, carries no cursor.
 */
export class SendQueue extends ByteQueue {
  private curIdx = -1;
  /** Offset of chunks[curIdx]'s first byte (moves down as the head is consumed). */
  private curAt = 0;

  override slice(offset: number, len: number): Uint8Array {
    if (len <= 0 || offset >= this.length) return EMPTY;
    len = Math.min(len, this.length - offset);
    if (this.curIdx < this.head || offset < this.curAt) return this.sliceFrom(this.head, -this.headOff, offset, len);
    return this.sliceFrom(this.curIdx, this.curAt, offset, len);
  }

  protected override found(i: number, at: number): void {
    this.curIdx = i;
    this.curAt = at;
  }

  override consume(n: number): void {
    this.curAt -= Math.min(n, this.length);
    super.consume(n);
  }

  protected override compacted(shift: number): void {
    this.curIdx -= shift;
  }
}
