// What a benchmark child process is asked to be, and the messages it exchanges
// with its coordinator over the IPC channel.
import type { ImplName } from './common.js';

export type RoleSpec =
  /** `profile`: write a V8 CPU profile of the main thread from go to result to this file. */
  /** Accept one connection and count bytes: until `bytes` arrived, 'end', `capMs` after go, or stop. */
  /** `payload`: bytes per datagram other than the default: raw dgram's payload, our stack's `maxMss` (PLPMTUD). */
  | { role: 'sink'; impl: ImplName; bytes?: number; capMs: number; profile?: string; payload?: number }
  /** Connect and write `bytes` (or forever, until stop), then end. */
  | { role: 'source'; impl: ImplName; port: number; bytes?: number; profile?: string; payload?: number }
  /** Echo every byte back on every accepted connection. */
  | { role: 'echo'; impl: ImplName }
  /** Round trips of `size` bytes, `warmup` untimed then `count` timed. */
  | { role: 'pinger'; impl: ImplName; port: number; size: number; warmup: number; count: number }
  /** Sequential connect, `size`-byte echo, close, `iterations` times. */
  | { role: 'setup'; impl: ImplName; port: number; size: number; iterations: number; capMs: number; shared?: boolean }
  /** UDP delay relay in front of 127.0.0.1:`port`. */
  | { role: 'relay'; port: number; rttMs: number; rateMbit?: number; queueMs?: number };

/** Coordinator → child. `peerPort`: where the child's peer appears to send from (udx needs it). */
export type ToChild = { t: 'go'; peerPort?: number; t0?: number } | { t: 'stop' };

export interface SinkResult {
  bytes: number;
  /** Wall ms of the first byte / of completion (last byte, cap or stop). */
  tFirst: number;
  tEnd: number;
  /** Bytes per BIN_MS bin from `t0` (the go message's, else the go arrival). */
  t0: number;
  bins: number[];
  capped: boolean;
  cpuMs: number;
  /** When half of `bytes` had arrived (0 if it never did or no total was set): wall ms, bytes by then, CPU ms since go. */
  tHalf: number;
  bytesHalf: number;
  cpuHalf: number;
}

export interface SourceResult {
  /** Wall ms when the source started connecting. */
  tStart: number;
  written: number;
  cpuMs: number;
  /** [wall ms, CPU ms since go] every CPU_SAMPLE_MS from go to stop: the CPU at any moment, interpolated. */
  cpuAt: Array<[number, number]>;
}

export interface PingResult {
  /** Sorted round-trip times, µs. */
  p50: number;
  p99: number;
  mean: number;
  count: number;
}

export interface SetupResult {
  iterations: number;
  elapsedMs: number;
  cpuMs: number;
}

export interface RelayResult {
  forwarded: number;
  dropped: number;
  cpuMs: number;
}

export type FromChild =
  | { t: 'ready'; port: number; port2?: number }
  | { t: 'result'; data: unknown }
  | { t: 'error'; message: string };
