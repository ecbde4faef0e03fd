// A hand-written SVG chart: one row per metric, one horizontal bar per series,
// each row scaled to its own maximum. No dependencies.

export interface ChartRow {
  label: string;
  values: number[];
  /** Text shown next to each bar (default: the number). */
  text?: string[];
}

export interface Chart {
  title: string;
  subtitle: string[];
  series: Array<{ name: string; color: string }>;
  rows: ChartRow[];
  notes: string[];
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function wrap(line: string, width: number): string[] {
  const out: string[] = [];
  let cur = '';
  for (const w of line.split(' ')) {
    if (cur !== '' && cur.length + 1 + w.length > width) {
      out.push(cur);
      cur = w;
    } else cur = cur === '' ? w : `${cur} ${w}`;
  }
  if (cur !== '') out.push(cur);
  return out;
}

export function renderChart(c: Chart): string {
  const W = 960;
  const labelW = 260;
  const barMax = 520;
  const barH = 16;
  const rowGap = 14;
  const rowH = c.series.length * (barH + 4) + rowGap;
  const sub = c.subtitle.flatMap((l) => wrap(l, 115));
  const legendY = 56 + sub.length * 18 + 12;
  const top = legendY + 30;
  const notes = c.notes.flatMap((l) => wrap(l, 115));
  const h = top + c.rows.length * rowH + 20 + notes.length * 18 + 20;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">`,
    `<rect width="${W}" height="${h}" fill="#ffffff"/>`,
    `<text x="20" y="32" font-size="20" font-weight="bold" fill="#111">${esc(c.title)}</text>`,
  );
  for (const [i, s] of sub.entries()) out.push(`<text x="20" y="${56 + i * 18}" font-size="13" fill="#444">${esc(s)}</text>`);
  // Legend.
  let lx = 20;
  const ly = legendY;
  for (const s of c.series) {
    out.push(`<rect x="${lx}" y="${ly - 11}" width="14" height="14" fill="${s.color}"/>`);
    out.push(`<text x="${lx + 20}" y="${ly}" font-size="13" fill="#222">${esc(s.name)}</text>`);
    lx += 40 + s.name.length * 8;
  }
  c.rows.forEach((row, r) => {
    const y0 = top + r * rowH;
    const max = Math.max(...row.values, 0);
    const midY = y0 + (c.series.length * (barH + 4)) / 2;
    out.push(`<text x="${labelW - 12}" y="${midY + 4}" font-size="13" text-anchor="end" fill="#222">${esc(row.label)}</text>`);
    out.push(`<line x1="${labelW}" y1="${y0 - 2}" x2="${labelW}" y2="${y0 + c.series.length * (barH + 4) - 2}" stroke="#999"/>`);
    c.series.forEach((s, i) => {
      const v = row.values[i] ?? 0;
      const w = max > 0 ? Math.max(v > 0 ? 2 : 0, (v / max) * barMax) : 0;
      const y = y0 + i * (barH + 4);
      const t = row.text?.[i] ?? String(v);
      out.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${s.color}"/>`);
      out.push(`<text x="${(labelW + w + 6).toFixed(1)}" y="${y + barH - 3}" font-size="12" fill="#222">${esc(t)}</text>`);
    });
  });
  const ny = top + c.rows.length * rowH + 14;
  for (const [i, n] of notes.entries()) out.push(`<text x="20" y="${ny + i * 18}" font-size="13" fill="#333">${esc(n)}</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
