// Shared constants and small helpers for the benchmark processes.
import { performance } from 'node:perf_hooks';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = resolve(BENCH_DIR, '..');
/** The committed reference results: written only with `--save`. */
export const RESULTS_DIR = resolve(BENCH_DIR, 'results');
/** Where a run writes by default: git-ignored, so running the benchmarks leaves `git status` clean. */
export const LATEST_DIR = resolve(RESULTS_DIR, 'latest');
export const NETLAB = resolve(REPO_ROOT, '..', 'shared', 'tools', 'netlab');

/** Every benchmark socket lives on loopback. */
export const HOST = '127.0.0.1';
/** Our stack's default payload per datagram; the raw dgram ceiling uses the same. */
export const PAYLOAD = 1200;
/** The jumbo figure's payload: raw dgram's datagram payload and our stack's maxMss (loopback's MTU is 64 KiB). */
export const JUMBO_PAYLOAD = 8192;
/** Socket buffers requested for every UDP implementation (our transport's default). */
export const SOCK_BUF = 4 * 1024 * 1024;
/** Write size used by every stream sender. */
export const CHUNK = 64 * 1024;
/** Receiver time-series bin, ms. */
export const BIN_MS = 100;

export type ImplName = 'dgram' | 'dgram-min' | 'tcp' | 'udx' | 'utp' | 'kcp' | 'ours' | 'ours-bbr';
export const ALL_IMPLS: ImplName[] = ['dgram', 'dgram-min', 'tcp', 'udx', 'utp', 'kcp', 'ours', 'ours-bbr'];
/** The raw node:dgram blasts (lib/raw-dgram.ts): no stream, run by the worker itself. */
export type RawImpl = 'dgram' | 'dgram-min';
export const isRaw = (i: ImplName): i is RawImpl => i === 'dgram' || i === 'dgram-min';
export const IMPL_LABEL: Record<ImplName, string> = {
  dgram: 'raw node:dgram',
  'dgram-min': 'minimal TCP floor (node:dgram)',
  tcp: 'node:net TCP',
  udx: 'udx-native',
  utp: 'utp-native',
  kcp: 'KCP (node-kcp)',
  ours: 'reliable-dgram',
  'ours-bbr': 'reliable-dgram (BBR)',
};

/** Wall-clock milliseconds with sub-ms resolution, comparable across processes on one host. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/** User + system CPU of this process, ms. */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export const MB = 1e6;

/** How often a bulk source samples its CPU time (for the second-half CPU figure). */
export const CPU_SAMPLE_MS = 10;

/** `samples` ([t, v] by increasing t) read off at time `t`, linearly between samples; clamped at the ends. */
export function interpolate(samples: ReadonlyArray<readonly [number, number]>, t: number): number {
  if (samples.length === 0) return NaN;
  const first = samples[0]!;
  if (t <= first[0]) return first[1];
  for (let i = 1; i < samples.length; i++) {
    const [t1, v1] = samples[i]!;
    if (t <= t1) {
      const [t0, v0] = samples[i - 1]!;
      return t1 === t0 ? v1 : v0 + ((v1 - v0) * (t - t0)) / (t1 - t0);
    }
  }
  return samples[samples.length - 1]![1];
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A payload buffer with a recognisable pattern (never modified after creation). */
export function pattern(size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + 7) & 255;
  return b;
}
