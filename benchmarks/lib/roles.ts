// What a benchmark child process is asked to be, and the messages it exchanges
// with its coordinator over the IPC channel.
import type { ImplName } from './common.js';

export type RoleSpec =
  /** `profile`: write a V8 CPU profile of the main thread from go to result to this file. */
  /** Accept one connection and count bytes: until `bytes` arrived, 'end', `capMs` after go, or stop. */
  /** `payload`: bytes per datagram other than the default: raw dgram's payload, our stack's `maxMss` (PLPMTUD). */
  /** `transfers`: that many transfers in a row, one per go (default 1): one result each, re-armed ('ready') on each later go. */
  | { role: 'sink'; impl: ImplName; bytes?: number; capMs: number; profile?: string; payload?: number; transfers?: number }
  /** Connect and write `bytes` (or forever, until stop), then end. `transfers`: a new connection per go, a result per stop. */
  | { role: 'source'; impl: ImplName; port: number; bytes?: number; profile?: string; payload?: number; transfers?: number }
  /** Accept one connection and `pipeline` it into fs.createWriteStream(`file`), hashing what arrives (sha256). */
  | { role: 'filesink'; impl: ImplName; file: string; capMs: number }
  /** Connect and `pipeline(fs.createReadStream(file), socket)`, hashing what is read (sha256). */
  | { role: 'filesource'; impl: ImplName; port: number; file: string }
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

export interface FileSinkResult {
  /** Bytes that arrived, and the size of the written file once the write stream finished. */
  bytes: number;
  fileBytes: number;
  /** Wall ms when the write stream finished (every byte in the file), or the cap. */
  tEnd: number;
  capped: boolean;
  cpuMs: number;
  sha256: string;
  /** The pipeline's error, if it failed. */
  error?: string;
}

export interface FileSourceResult {
  tStart: number;
  /** Wall ms when the pipeline finished on this side (file read, socket ended). */
  tDone: number;
  bytes: number;
  cpuMs: number;
  sha256: string;
  error?: string;
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

export type FromChild = { t: 'ready'; port: number; port2?: number } | { t: 'result'; data: unknown } | { t: 'error'; message: string };
