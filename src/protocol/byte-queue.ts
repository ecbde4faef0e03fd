// A FIFO of byte chunks kept by reference, with random access by offset: the
// base of the send buffer and of the receive buffer.

const EMPTY = new Uint8Array(0);
const zeroed = (size: number): Uint8Array => new Uint8Array(size);

/** A FIFO of byte chunks with random access by offset from its head. */
export class ByteQueue {
  protected chunks: Uint8Array[] = [];
  protected head = 0; // index of the first live chunk
  protected headOff = 0; // bytes already consumed from chunks[head]
  length = 0;

  /** `alloc`: memory for a slice that spans chunks (every byte of it is written before it is handed out). */
  constructor(private readonly alloc: (size: number) => Uint8Array = zeroed) {}

  push(data: Uint8Array): void {
    if (data.length === 0) return;
    this.chunks.push(data);
    this.length += data.length;
  }

  /** Bytes [offset, offset+len) as one view; copies only when they span chunks. */
  slice(offset: number, len: number): Uint8Array {
    if (len <= 0 || offset >= this.length) return EMPTY;
    return this.sliceFrom(this.head, -this.headOff, offset, Math.min(len, this.length - offset));
  }

  /** `slice` starting the search at chunk `i`, whose first byte is at offset `at` (≤ `offset`). */
  protected sliceFrom(i: number, at: number, offset: number, len: number): Uint8Array {
    for (let n = this.chunks[i]!.length; offset >= at + n; n = this.chunks[i]!.length) {
      at += n;
      i++;
    }
    this.found(i, at);
    let off = offset - at;
    const first = this.chunks[i]!;
    if (off + len <= first.length) return first.subarray(off, off + len);
    const out = this.alloc(len);
    let w = 0;
    while (w < len) {
      const c = this.chunks[i++]!;
      const n = Math.min(c.length - off, len - w);
      out.set(c.subarray(off, off + n), w);
      w += n;
      off = 0;
    }
    return out;
  }

  /** Hook: a slice began in chunk `i`, whose first byte is at offset `at`. */
  protected found(_i: number, _at: number): void {}

  /** Drop `n` bytes from the head. */
  consume(n: number): void {
    n = Math.min(n, this.length);
    this.length -= n;
    while (n > 0) {
      const c = this.chunks[this.head]!;
      const left = c.length - this.headOff;
      if (n < left) {
        this.headOff += n;
        break;
      }
      n -= left;
      this.chunks[this.head] = EMPTY;
      this.head++;
      this.headOff = 0;
    }
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.compacted(this.head);
      this.head = 0;
    }
  }

  /** Hook: chunk indices moved down by `shift`. */
  protected compacted(_shift: number): void {}

  /** Remove and return the first chunk (or part of it, at most `max` bytes). */
  shift(max = Infinity): Uint8Array | null {
    if (this.length === 0) return null;
    const c = this.chunks[this.head]!;
    const n = Math.min(c.length - this.headOff, max);
    const out = c.subarray(this.headOff, this.headOff + n);
    this.consume(n);
    return out;
  }
}
