// Interfaces between the pure core and the edges (src/io for the OS, src/sim
// for the simulator). The core only ever calls these; it never reaches for a
// clock, a timer, randomness or a socket on its own.

/** A UDP address. `family` is informational. */
export interface Address {
  address: string;
  port: number;
  family?: 'IPv4' | 'IPv6';
}

export function addressKey(a: Address): string {
  return `${a.address}|${a.port}`;
}

export function sameAddress(a: Address, b: Address): boolean {
  return a.port === b.port && a.address === b.address;
}

/** Injected randomness. */
export interface Env {
  /** A uniformly random unsigned 32-bit integer. */
  random32(): number;
  /**
   * Optional: `size` bytes the caller overwrites before reading (Node's Buffer.allocUnsafeSlow),
   * for the datagram pool's chunks and for reads that join segments. Without it, zero-filled memory.
   */
  allocUninitialized?(size: number): Uint8Array;
}

/** A datagram transport bound to one local address (the OS UDP socket in src/io, or the simulator). */
export interface Transport {
  /** Queue one datagram for `to`. Never throws for network conditions; failures are loss. */
  send(data: Uint8Array, to: Address): void;
  /** Set by the owner: called for every datagram that arrives. */
  onMessage: ((data: Uint8Array, from: Address) => void) | null;
  /**
   * Set by the owner: called when the OS reports a hard error for a peer
   * (e.g. ICMP port unreachable as ECONNREFUSED), or for the socket itself (peer undefined).
   */
  onError: ((err: NodeJS.ErrnoException, peer?: Address) => void) | null;
  /**
   * Optional: every datagram handed to send() so far has been written to the OS and is no longer
   * referenced, so the endpoint may reuse its memory. Without it, datagram memory is never reused.
   */
  released?(): boolean;
  /**
   * Optional: find out whether `peer`'s port is still open, reporting ECONNREFUSED through `onError`
   * if the OS says it is not. Called when a connection's peer has gone quiet. A socket connected to the
   * peer gets such reports anyway and needs nothing; an unconnected one may ask from a connected one.
   */
  checkReachable?(peer: Address): void;
  address(): Address;
  close(): void;
  ref(): void;
  unref(): void;
}

export interface TimerHandle {
  cancel(): void;
}

/** Time, in milliseconds, and timers (real ones from src/io, virtual ones from src/sim). */
export interface Clock {
  now(): number;
  /** Call `fn` once at absolute time `at` (ms, same base as now()). */
  setTimer(at: number, fn: () => void): TimerHandle;
  /** Whether timers keep the process alive (real clock only; the simulator ignores it). */
  setRef?(timer: TimerHandle, ref: boolean): void;
  /** Run `fn` once the current batch of I/O callbacks is done (same instant on a virtual clock). */
  defer?(fn: () => void): void;
}
