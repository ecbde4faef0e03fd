// Hand-written SVG: horizontal grouped bar charts, a bar per implementation at
// its median, a whisker from min to max over rounds. No dependencies.
import type { ImplName } from './common.js';
import { fmt, summarise } from './stats.js';

export interface Bar {
  label: string;
  impl: ImplName;
  values: ReadonlyArray<number | null>;
}

export interface ChartGroup {
  label: string;
  bars: Bar[];
}

export interface Chart {
  file: string;
  title: string;
  unit: string;
  digits: number;
  groups: ChartGroup[];
  /** A dashed vertical line (a target), with its label. */
  marker?: { value: number; label: string };
}

const COLOR: Record<ImplName, string> = {
  dgram: '#8c8c8c',
  'dgram-min': '#bab0ac',
  tcp: '#4c78a8',
  udx: '#f58518',
  utp: '#54a24b',
  kcp: '#72b7b2',
  ours: '#e45756',
  'ours-bbr': '#b279a2',
};

/** 1, 2 or 5 × a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function renderChart(c: Chart): string {
  const left = 190;
  const plotW = 440;
  const right = 110;
  const rowH = 18;
  const groupGap = 12;
  const top = 58;
  let max = 0;
  for (const g of c.groups) for (const b of g.bars) for (const v of b.values) if (typeof v === 'number' && Number.isFinite(v)) max = Math.max(max, v);
  if (c.marker) max = Math.max(max, c.marker.value);
  if (max <= 0) max = 1;
  max *= 1.05;
  const x = (v: number): number => left + (Math.max(0, v) / max) * plotW;
  const out: string[] = [];
  let y = top;
  for (const g of c.groups) {
    if (g.label) {
      out.push(`<text x="8" y="${y + 12}" font-weight="bold">${esc(g.label)}</text>`);
      y += rowH;
    }
    for (const b of g.bars) {
      const s = summarise(b.values);
      out.push(`<text x="${left - 6}" y="${y + 13}" text-anchor="end">${esc(b.label)}</text>`);
      if (s) {
        const w = Math.max(1, x(s.median) - left);
        out.push(`<rect x="${left}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${COLOR[b.impl]}"/>`);
        if (s.n > 1 && s.max > s.min) {
          const ym = y + rowH / 2;
          out.push(
            `<path d="M${x(s.min).toFixed(1)} ${ym}H${x(s.max).toFixed(1)}M${x(s.min).toFixed(1)} ${ym - 4}v8M${x(s.max).toFixed(1)} ${ym - 4}v8" stroke="#222" stroke-width="1" fill="none"/>`,
          );
        }
        out.push(`<text x="${(Math.max(x(s.max), x(s.median)) + 5).toFixed(1)}" y="${y + 13}">${fmt(s.median, c.digits)}</text>`);
      } else {
        out.push(`<text x="${left + 4}" y="${y + 13}" fill="#888">no result</text>`);
      }
      y += rowH;
    }
    y += groupGap;
  }
  const bottom = y;
  // Axis with round-numbered ticks.
  const axis: string[] = [`<path d="M${left} ${top - 4}V${bottom - groupGap + 2}" stroke="#444"/>`];
  const step = niceStep(max / 4.5);
  for (let v = 0; v <= max + 1e-9; v += step) {
    const xi = x(v).toFixed(1);
    axis.push(`<path d="M${xi} ${bottom - groupGap + 2}v4" stroke="#444"/>`);
    axis.push(`<text x="${xi}" y="${bottom - groupGap + 18}" text-anchor="middle" fill="#444">${fmt(v, step < 1 ? 1 : 0)}</text>`);
  }
  if (c.marker) {
    const xm = x(c.marker.value).toFixed(1);
    axis.push(`<path d="M${xm} ${top - 4}V${bottom - groupGap + 2}" stroke="#222" stroke-dasharray="4 3"/>`);
    axis.push(`<text x="${xm}" y="${top - 8}" text-anchor="middle" fill="#222">${esc(c.marker.label)}</text>`);
  }
  const h = bottom + 26;
  const w = left + plotW + right;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="8" y="18" font-size="14" font-weight="bold">${esc(c.title)}</text>`,
    `<text x="8" y="34" fill="#444">${esc(c.unit)} · bar = median, whisker = min..max over rounds</text>`,
    ...axis,
    ...out,
    `</svg>`,
    '',
  ].join('\n');
}
