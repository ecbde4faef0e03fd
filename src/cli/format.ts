// Formatting for the CLI: sizes, rates, durations, the progress line (a bar on
// a terminal, a plain line otherwise) and the getStats() table.

import type { SocketStats } from 'reliable-dgram';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(2)} ${units[i]}`;
}

/** Decimal megabytes per second, as iperf's MBytes/sec. */
export function formatRate(bytes: number, ms: number): string {
  return `${ms > 0 ? (((bytes / ms) * 1000) / 1e6).toFixed(2) : '0.00'} MB/s`;
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '--';
  if (s < 60) return `${Math.ceil(s)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.ceil(s - m * 60)).padStart(2, '0')}s`;
}

export function formatMs(ms: number): string {
  return `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms`;
}

export interface ProgressSample {
  /** Bytes so far. */
  bytes: number;
  /** Total if known. */
  total?: number;
  /** ms since the start. */
  elapsed: number;
  /** Recent rate, bytes per ms. */
  rate: number;
  stats: SocketStats | null;
}

function parts(p: ProgressSample): string[] {
  const out: string[] = [];
  out.push(p.total !== undefined ? `${formatBytes(p.bytes)} / ${formatBytes(p.total)}` : formatBytes(p.bytes));
  out.push(formatRate(p.rate * 1000, 1000));
  if (p.total !== undefined) out.push(`ETA ${p.rate > 0 ? formatDuration((p.total - p.bytes) / p.rate / 1000) : '--'}`);
  if (p.stats) out.push(`retrans ${p.stats.retransmittedSegments}`, `rtt ${formatMs(p.stats.srtt)}`);
  return out;
}

/** One line for a log: no carriage returns, no escapes. */
export function plainProgress(p: ProgressSample): string {
  const pct = p.total ? ` (${((p.bytes / p.total) * 100).toFixed(1)}%)` : '';
  return `${(p.elapsed / 1000).toFixed(1)}s ${parts(p)
    .join(', ')
    .replace(/^([^,]*)/, `$1${pct}`)}`;
}

/** A terminal bar, redrawn in place with \r. */
export function barProgress(p: ProgressSample, width = 24): string {
  let bar = '';
  if (p.total) {
    const filled = Math.min(width, Math.round((p.bytes / p.total) * width));
    bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${((p.bytes / p.total) * 100).toFixed(0).padStart(3)}% `;
  }
  return `\r\x1b[2K${bar}${parts(p).join('  ')}`;
}

/** getStats() as an aligned two-column table, like `ss -ti`'s detail. */
export function statsTable(s: SocketStats): string {
  const rows = Object.entries(s).map(([k, v]) => [k, typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : String(v)] as const);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n');
}
