// The endpoint's outgoing datagrams: a queue of (bytes, destination), and the
// memory they are encoded into, carved from shared chunks and reused once the
// transport has written them.

import type { Address, Transport } from './types.js';
import type { Datagram } from './endpoint-types.js';

/**
 * Outgoing datagrams as two parallel queues (bytes, destination): no wrapper object per datagram.
 * Arrays with head and tail indices: drained slots are reused in place, never trimmed (setting an
 * array's length to 0 on every drain is a runtime call, per datagram here).
 */
export class Outbox {
  private readonly data: Array<Uint8Array | undefined> = [];
  private readonly to: Array<Address | undefined> = [];
  private head = 0;
  private tail = 0;
  private readonly pool: DatagramPool;

  constructor(allocChunk?: (size: number) => Uint8Array) {
    this.pool = new DatagramPool(allocChunk);
  }

  /**
   * Room for a datagram of at most `size` bytes: the buffer returned, from offset `reservedAt`
   * (a shared chunk: write only there). `commit` queues what was written into it.
   */
  reserve(size: number): Uint8Array {
    return this.pool.reserve(size);
  }

  /** Where the room `reserve` returned begins in its buffer. */
  get reservedAt(): number {
    return this.pool.at;
  }

  /** Queue the `n` bytes written at `reservedAt` of `room` (from `reserve`) for `to`. */
  commit(room: Uint8Array, n: number, to: Address): void {
    const i = this.tail++;
    this.data[i] = this.pool.commit(room, n);
    this.to[i] = to;
  }

  poll(): Datagram | undefined {
    if (this.head === this.tail) {
      this.head = this.tail = 0;
      return undefined;
    }
    const i = this.head++;
    const d: Datagram = { data: this.data[i]!, to: this.to[i]! };
    this.pool.pin(); // the caller may keep it: its memory is never reused
    this.data[i] = undefined;
    this.to[i] = undefined;
    return d;
  }

  /**
   * Hand every queued datagram to `sink.send`, in order. Datagrams queued meanwhile (by a re-entrant
   * call) go too. Returns whether there was any. When the sink then says it holds none of them
   * (`released`), their memory is reused for the next datagrams.
   */
  transmitTo(sink: Pick<Transport, 'send' | 'released'>): boolean {
    if (this.head === this.tail) return false;
    const data = this.data;
    const to = this.to;
    while (this.head !== this.tail) {
      const i = this.head++;
      const d = data[i]!;
      const a = to[i]!;
      data[i] = undefined;
      to[i] = undefined;
      sink.send(d, a);
    }
    this.head = this.tail = 0;
    if (sink.released?.()) this.pool.recycle();
    return true;
  }
}

const POOL_CHUNK = 256 * 1024;
const POOL_FIRST = 16 * 1024;
const EMPTY_CHUNK = new Uint8Array(0);

/**
 * Datagram buffers carved from chunks of up to 256 KiB: one allocation per ~200 full
 * segments (30 at 8 KiB) instead of one (off-heap, freed by the GC) per datagram;
 * uninitialised where the environment offers it (encode writes every byte).
 * A buffer is never handed out twice: the transport owns what it was given, and
 * a chunk is freed once the last datagram in it is.
 *
 * The room handed out is the whole chunk, written from `at`: the datagram is encoded in place and
 * `commit` makes the one view of it that goes to the transport (no view per reserve, none for
 * the many polls that send nothing).
 */
class DatagramPool {
  private chunk: Uint8Array = EMPTY_CHUNK;
  /** Where the next datagram goes in `chunk`. */
  private offset = 0;
  /** Where the room `reserve` last returned begins: `offset` in the chunk, 0 in a buffer of its own. */
  at = 0;
  /** A datagram from this chunk went somewhere that may keep it (pollTransmit). */
  private pinned = false;
  /** The size of the next chunk (doubling up to POOL_CHUNK). */
  private nextChunk = POOL_FIRST;

  constructor(private readonly allocChunk: (size: number) => Uint8Array = (n) => new Uint8Array(n)) {}

  alloc(size: number): Uint8Array {
    return this.commit(this.reserve(size), size);
  }

  /** Room for a datagram of at most `size` bytes from `at`, not yet taken: `commit` takes what was written. */
  reserve(size: number): Uint8Array {
    if (size > POOL_CHUNK / 8) {
      this.at = 0;
      return this.allocChunk(size); // its own allocation
    }
    if (this.offset + size > this.chunk.length) {
      // Chunks double from POOL_FIRST: a short exchange (a handshake, one request) takes 16 KiB,
      // not 256 KiB of memory to map and fault in; a transfer reaches full chunks within ~60 KiB sent.
      const c = this.allocChunk(Math.max(this.nextChunk, size));
      this.nextChunk = Math.min(POOL_CHUNK, 2 * this.nextChunk);
      // A plain Uint8Array over it (the allocator may give a Buffer): its subarray is the builtin one.
      this.chunk = new Uint8Array(c.buffer, c.byteOffset, c.length);
      this.offset = 0;
      this.pinned = false;
    }
    this.at = this.offset;
    return this.chunk;
  }

  /** Take the `n` bytes written at `at` of the room `reserve` gave. */
  commit(room: Uint8Array, n: number): Uint8Array {
    if (room !== this.chunk) return room.length === n ? room : room.subarray(0, n); // its own allocation
    const at = this.offset;
    // 8-byte aligned starts, as Node's own Buffer pool keeps them.
    this.offset = at + ((n + 7) & ~7);
    return room.subarray(at, at + n);
  }

  pin(): void {
    this.pinned = true;
  }

  /**
   * Every datagram handed out has been written to the OS and is no longer referenced: reuse the
   * chunk from its start (memory already mapped and cached, not a new chunk per 256 KiB sent).
   */
  recycle(): void {
    if (this.pinned) this.chunk = EMPTY_CHUNK; // abandon it: the next reserve takes a new chunk
    this.offset = 0;
  }
}
