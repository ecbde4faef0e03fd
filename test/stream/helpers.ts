// Shared helpers for the stream tests: listening servers, awaiting events with
// a deadline, collecting bytes, and pumping the simulator between event-loop turns.
import { settle } from '../../src/io/settle.js';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { once as eventsOnce, type EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer, type Server, type ServerOptions, type Socket } from '../../src/index.js';
import type { SimNetwork } from '../../src/sim/index.js';

export const HOST = '127.0.0.1';

/** Resolve with the first emission of `event` (its arguments), reject on 'error' or after `ms`. */
export function once(emitter: EventEmitter, event: string, ms = 5000): Promise<unknown[]> {
  return eventsOnce(emitter, event, { signal: AbortSignal.timeout(ms) });
}

/** The error a stream or server emits (rejects if none within `ms`). */
export async function errorOf(emitter: EventEmitter, ms = 5000): Promise<NodeJS.ErrnoException & { address?: string; port?: number }> {
  const [err] = await eventsOnce(emitter, 'error', { signal: AbortSignal.timeout(ms) });
  return err as NodeJS.ErrnoException;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function listen(server: Server, host = HOST): Promise<number> {
  server.listen(0, host);
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** An echo server on 127.0.0.1; resolves with it and its port. */
export async function echoServer(opts: ServerOptions = {}): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer(opts, (s) => {
    sockets.push(s);
    s.on('error', () => {});
    s.pipe(s);
  });
  const port = await listen(server);
  return { server, port, sockets };
}

/** Every byte a stream yields until 'end'. */
export async function readAll(s: Duplex, ms = 20_000): Promise<Buffer> {
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  await once(s, 'end', ms);
  return Buffer.concat(chunks);
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
export function pattern(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 255;
  }
  return b;
}

/**
 * A UDP port that refuses every datagram (the kernel answers ICMP port unreachable), held until
 * `close`. A port bound and then closed could be taken meanwhile by another test file running in
 * parallel; this one stays bound by a socket connected elsewhere, which takes nothing from anyone else.
 */
export async function closedUdpPort(host = HOST): Promise<{ port: number; close: () => void }> {
  const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  s.bind(0, host);
  await once(s, 'listening');
  await new Promise<void>((r) => s.connect(1, host, () => r()));
  return { port: s.address().port, close: () => s.close() };
}

/** A bound UDP socket that swallows everything: a peer that never answers. */
/** A UDP port that never answers; `received` counts segments (not the 1-byte port probes of reachability.ts). */
export async function blackhole(host = HOST): Promise<{ port: number; received: () => number; close: () => void }> {
  const s = dgram.createSocket('udp4');
  let n = 0;
  s.on('message', (m) => {
    if (m.length > 1) n++;
  });
  s.bind(0, host);
  await once(s, 'listening');
  return { port: s.address().port, received: () => n, close: () => s.close() };
}

/**
 * Run the simulator one event at a time (at most `step` virtual ms per turn), letting the event
 * loop run after each, as Node does after every I/O callback (stream events are delivered on
 * process.nextTick), until `done()` or `maxMs` of virtual time.
 */
export async function runSim(net: SimNetwork, done: () => boolean, maxMs = 600_000, _step?: number): Promise<void> {
  await settle(net, { done, until: maxMs });
  if (!done()) throw new Error(`simulation did not finish within ${maxMs} ms of virtual time`);
}

export interface Tracker {
  /** Event names in the order they fired. */
  order: string[];
  /** Arguments of the first emission of `event`, waiting for it if it has not fired yet. */
  wait(event: string, ms?: number): Promise<unknown[]>;
  fired(event: string): boolean;
}

/** Record events from now on, so a test can await one that may already have fired. */
export function track(e: EventEmitter, names = ['connect', 'ready', 'end', 'finish', 'close', 'error', 'timeout']): Tracker {
  const order: string[] = [];
  const seen = new Map<string, unknown[]>();
  const waiters = new Map<string, Array<(a: unknown[]) => void>>();
  for (const n of names) {
    e.on(n, (...a: unknown[]) => {
      order.push(n);
      if (!seen.has(n)) seen.set(n, a);
      for (const w of waiters.get(n) ?? []) w(a);
      waiters.delete(n);
    });
  }
  return {
    order,
    fired: (n) => seen.has(n),
    wait(n, ms = 5000) {
      const got = seen.get(n);
      if (got) return Promise.resolve(got);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for '${n}' (saw: ${order.join(', ')})`)), ms);
        const list = waiters.get(n) ?? [];
        list.push((a) => {
          clearTimeout(t);
          resolve(a);
        });
        waiters.set(n, list);
      });
    },
  };
}
