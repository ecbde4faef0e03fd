// What every command shares at run time: messages on stderr, exiting after
// the output is flushed, Ctrl-C, and --verbose's view of a connection.

import type { Socket } from 'reliable-dgram';
import { statsTable } from './format.js';

export const EXIT_OK = 0;
export const EXIT_NETWORK = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

export function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

let exiting = false;
let interrupted = false;

/** Exit once stdout and stderr have taken everything written to them. */
export function exit(code: number): void {
  if (exiting || (interrupted && code !== EXIT_INTERRUPTED)) return; // Ctrl-C's 130 wins over the close it causes
  exiting = true;
  let pending = 2;
  const done = (): void => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

/** A network error as net words it ('connect ECONNREFUSED 127.0.0.1:7000'), then exit 1. */
export function failWith(err: unknown): void {
  if (interrupted) return;
  const e = err as NodeJS.ErrnoException;
  log(`reliable-dgram: ${e.message ?? String(err)}${e.code && !String(e.message).includes(e.code) ? ` (${e.code})` : ''}`);
  exit(EXIT_NETWORK);
}

/**
 * Ctrl-C (and SIGTERM): run `cleanup`, then exit 130; a second Ctrl-C exits at once.
 * Cleanup resets open connections: a process that exits cannot see a FIN through
 * (the kernel would, for TCP), and a reset tells the peer at once, as ECONNRESET.
 */
export function onInterrupt(cleanup: () => void): void {
  const handler = (): void => {
    interrupted = true;
    process.removeListener('SIGINT', handler);
    process.removeListener('SIGTERM', handler);
    process.once('SIGINT', () => process.exit(EXIT_INTERRUPTED));
    try {
      cleanup();
    } finally {
      log('reliable-dgram: interrupted');
      setTimeout(() => exit(EXIT_INTERRUPTED), 50); // the reset's datagram leaves first
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/**
 * --verbose: the connection's state changes (sampled from getStats() every few
 * ms, with the socket's events) and its final getStats() table, on stderr.
 * Sampled: the public API has no state-change event, so a state that lasts
 * less than a sample (SYN_RECEIVED on loopback) may not show.
 */
export function watchVerbose(socket: Socket, label: string, now: () => number = () => performance.now()): void {
  const t0 = now();
  const stamp = (): string => `[${((now() - t0) / 1000).toFixed(3)}s] ${label}`;
  let last: string | undefined;
  const sample = (): void => {
    const st = socket.getStats()?.state;
    if (st !== undefined && st !== last) {
      log(`${stamp()} state ${last === undefined ? st : `${last} -> ${st}`}`);
      last = st;
    }
  };
  const timer = setInterval(sample, 5);
  timer.unref();
  for (const ev of ['connect', 'end', 'finish'] as const)
    socket.on(ev, () => {
      sample();
      log(`${stamp()} ${ev}`);
    });
  socket.on('error', (e: NodeJS.ErrnoException) => log(`${stamp()} error ${e.code ?? e.message}`));
  socket.on('close', () => {
    clearInterval(timer);
    sample();
    const s = socket.getStats();
    log(`${stamp()} close`);
    if (s) log(`${label} getStats():\n${statsTable(s)}`);
  });
}

/**
 * Resolves once everything this socket sent, FIN included, is acknowledged (or
 * the connection is gone). 'close' comes earlier: as in net, it fires once the
 * FIN is queued; but here our process, not the kernel, holds the unsent bytes,
 * so a process that exits on 'close' could cut them off.
 */
export function delivered(socket: Socket, limitMs = 120_000): Promise<void> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const check = (): void => {
      const st = socket.getStats()?.state;
      if (st === undefined || st === 'CLOSED' || st === 'TIME_WAIT' || performance.now() - t0 > limitMs) resolve();
      else setTimeout(check, 5);
    };
    check();
  });
}
