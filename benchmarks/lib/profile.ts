// Summarise a V8 .cpuprofile (node --cpu-prof): functions by self time.
import { readFileSync } from 'node:fs';
import { REPO_ROOT } from './common.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  fn: string;
  where: string;
  ms: number;
  pct: number;
}

function where(url: string, line: number): string {
  if (!url) return '';
  let u = url.replace(/^file:\/\//, '');
  if (u.startsWith(REPO_ROOT)) u = u.slice(REPO_ROOT.length + 1);
  u = u.replace(/^.*node_modules\//, 'node_modules/');
  return line > 0 ? `${u}:${line + 1}` : u;
}

/** Top `n` functions by self time, and the profile's total (idle excluded). */
export function topSelf(file: string, n = 20): { total: number; idle: number; top: SelfTime[] } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const node of p.nodes) byId.set(node.id, node);
  const acc = new Map<string, SelfTime>();
  let total = 0;
  let idle = 0;
  // A delta far above the sampling interval is a gap (the thread was not
  // scheduled), not time spent in the sampled function: cap it.
  const sorted = [...p.timeDeltas].sort((a, b) => a - b);
  const cap = 4 * (sorted[sorted.length >> 1] ?? 0);
  for (let i = 0; i < p.samples.length; i++) {
    const node = byId.get(p.samples[i]!);
    const dt = Math.min(p.timeDeltas[i] ?? 0, cap) / 1000;
    if (!node) continue;
    const fn = node.callFrame.functionName || '(anonymous)';
    if (fn === '(idle)') {
      idle += dt;
      continue;
    }
    total += dt;
    const w = where(node.callFrame.url, node.callFrame.lineNumber);
    const key = `${fn}@${w}`;
    const e = acc.get(key) ?? { fn, where: w, ms: 0, pct: 0 };
    e.ms += dt;
    acc.set(key, e);
  }
  const top = [...acc.values()].sort((a, b) => b.ms - a.ms).slice(0, n);
  for (const e of top) e.pct = total > 0 ? (100 * e.ms) / total : 0;
  return { total, idle, top };
}

export function profileMarkdown(title: string, file: string, n = 20): string {
  const { total, idle, top } = topSelf(file, n);
  return [
    `### ${title}`,
    '',
    `${total.toFixed(0)} ms on CPU (+ ${idle.toFixed(0)} ms idle) in the profile.`,
    '',
    '| self ms | % | function | where |',
    '|---:|---:|---|---|',
    ...top.map((e) => `| ${e.ms.toFixed(1)} | ${e.pct.toFixed(1)} | \`${e.fn}\` | ${e.where} |`),
    '',
  ].join('\n');
}
