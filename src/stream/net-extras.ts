// Smaller pieces of net.Socket's behaviour, kept out of socket.ts: the
// `onread` option, the `_handle` stand-in, the unspecified-address rule of
// connect(), and the auto-select-family option checks.

import { executionAsyncId } from 'node:async_hooks';
import { validateBoolean, validateNumber } from './args.js';
import { outOfRange } from './errors.js';

// ---------------------------------------------------------------- onread

/** net's `onread: { buffer, callback }`: reads go into `buffer` (or one from `buffer()` per read) and to `callback`. */
export interface OnreadOptions {
  buffer: Uint8Array | (() => Uint8Array);
  callback: (this: unknown, bytesRead: number, buffer: Uint8Array) => boolean | void;
}

export interface Onread extends OnreadOptions {
  /** The buffer the next read fills. */
  next: Uint8Array | null;
}

/** As net: a well-formed `onread` is used, anything else is ignored. */
export function onreadOption(value: unknown): Onread | null {
  if (value === null || typeof value !== 'object') return null;
  const { buffer, callback } = value as Partial<OnreadOptions>;
  if (!(buffer instanceof Uint8Array || typeof buffer === 'function') || typeof callback !== 'function') return null;
  return { buffer, callback, next: null };
}

/** How many bytes the next read may take: the size of the buffer it fills (taken from the generator now). */
export function onreadRoom(o: Onread): number {
  o.next ??= typeof o.buffer === 'function' ? o.buffer() : o.buffer;
  return Math.max(1, o.next.byteLength);
}

/** Copy one read (at most onreadRoom bytes) into the app's buffer and call back; false when the app asked to pause. */
export function deliverOnread(socket: unknown, o: Onread, chunk: Uint8Array): boolean {
  const buf = o.next ?? (typeof o.buffer === 'function' ? o.buffer() : o.buffer);
  o.next = null;
  const n = Math.min(chunk.byteLength, buf.byteLength);
  buf.set(chunk.subarray(0, n));
  return o.callback.call(socket, n, buf) !== false;
}

// ---------------------------------------------------------------- _handle

/** What code reaching into net's `socket._handle` most often calls. */
export interface SocketHandle {
  readonly fd: number;
  /** node:http reads it when a keep-alive socket goes back to its Agent. */
  getAsyncId(): number;
  /**
   * node:http's server calls these on the socket's 'pause'/'resume' (as net's handle starts and
   * stops reading the kernel). Flow control here is the stream's own: they only track `reading`.
   */
  reading: boolean;
  readStart(): number;
  readStop(): number;
  setNoDelay(enable?: boolean): number;
  /** As the TCP handle: the delay in seconds. */
  setKeepAlive(enable: boolean, initialDelaySecs?: number): number;
}

/** What the stand-in handle does for real (net's handle sets the TCP options). */
interface HandleOwner {
  noDelay(enable: boolean): void;
  keepAlive(enable: boolean, initialDelayMs: number): void;
}

export function makeHandle(socket: HandleOwner): SocketHandle {
  const asyncId = executionAsyncId();
  return {
    fd: -1, // no file descriptor of its own: the connection shares a UDP socket
    getAsyncId: () => asyncId,
    reading: true,
    readStart() {
      this.reading = true;
      return 0;
    },
    readStop() {
      this.reading = false;
      return 0;
    },
    setNoDelay(enable = true) {
      socket.noDelay(Boolean(enable));
      return 0;
    },
    setKeepAlive(enable, initialDelaySecs = 0) {
      socket.keepAlive(Boolean(enable), initialDelaySecs * 1000);
      return 0;
    },
  };
}

// ---------------------------------------------------------------- connect()

/** connect() to the unspecified address reaches this host, as the kernel treats a TCP connect to it. */
export function loopbackFor(ip: string): string {
  if (ip === '0.0.0.0') return '127.0.0.1';
  if (ip === '::' || /^(0{1,4}:){7}0{1,4}$/.test(ip) || ip === '::0') return '::1';
  return ip;
}

/** net's checks of autoSelectFamily (a boolean) and autoSelectFamilyAttemptTimeout (an int32 >= 1). */
export function validateAutoSelectFamily(o: { autoSelectFamily?: unknown; autoSelectFamilyAttemptTimeout?: unknown }): void {
  if (o.autoSelectFamily != null) validateBoolean(o.autoSelectFamily, 'options.autoSelectFamily');
  const t = o.autoSelectFamilyAttemptTimeout;
  if (t != null) {
    const name = 'options.autoSelectFamilyAttemptTimeout';
    validateNumber(t, name);
    if (!Number.isInteger(t)) throw outOfRange(name, 'an integer', t);
    validateNumber(t, name, 1, 2 ** 31 - 1);
  }
}
