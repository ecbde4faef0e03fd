// Turns the per-round outcomes into tables (markdown), charts (SVG), target
// PASS/FAIL lines and a JSON document.
import { BIN_MS, IMPL_LABEL, JUMBO_PAYLOAD, MB, PAYLOAD, type ImplName } from './common.js';
import { APP_FILE, APP_MEM, SETUP_OWN, WARM_TRANSFERS, type FigureId, type RunConfig, type Sizes, type Skip } from './plan.js';
import { HEADER_SIZE } from '../../src/wire/segment.js';
import type { PingResult, SetupResult } from './roles.js';
import type { BulkOut, FlowOut, ScenarioOut } from './scenarios.js';
import { fmt, fmtSummary, pairedRatio, secondHalfMBps, shareOf, summarise, type Summary } from './stats.js';
import type { Chart, ChartGroup } from './svg.js';
import { describeLo, SHARE_LO, withEnv } from './lo.js';

export interface Raw {
  config: RunConfig;
  /** Indexed by round; null = failed (see errors). */
  outs: Array<ScenarioOut | null>;
  errors: string[];
}
export type RawSet = Map<string, Raw>;

// ------------------------------------------------------------------ metrics
type Extract = (o: ScenarioOut, c: RunConfig) => number | null;

type Span = { bytes: number; elapsedMs: number; cpuMs: number } | undefined;
const mbps = (b: Span): number | null => (b && b.elapsedMs > 0 ? b.bytes / MB / (b.elapsedMs / 1000) : null);
const msPerMB = (b: Span): number | null => (b && b.bytes > 0 ? b.cpuMs / (b.bytes / MB) : null);
const bulkMBps: Extract = (o) => mbps(o as BulkOut);
const cpuPerMB: Extract = (o) => msPerMB(o as BulkOut);
/** The same over the second half of the bytes (BulkOut.half). */
const halfMBps: Extract = (o) => mbps((o as BulkOut).half);
const halfCpuPerMB: Extract = (o) => msPerMB((o as BulkOut).half);
/** The warm figure: the second transfer in the same processes (BulkOut.warm), and warm ÷ cold within the run. */
const warmMBps: Extract = (o) => mbps((o as BulkOut).warm);
const warmCpuPerMB: Extract = (o) => msPerMB((o as BulkOut).warm);
/** The last of the warm figure's transfers (BulkOut.steady): the JIT has settled. */
const steadyMBps: Extract = (o) => mbps((o as BulkOut).steady);
const steadyCpuPerMB: Extract = (o) => msPerMB((o as BulkOut).steady);
const warmOverCold: Extract = (o, c) => {
  const w = warmMBps(o, c);
  const b = bulkMBps(o, c);
  return w === null || b === null || b === 0 ? null : w / b;
};

/** MB/s over the second half of a timed run. */
function secondHalf(f: FlowOut | undefined, durationMs: number): number | null {
  if (!f) return null;
  const v = secondHalfMBps(f.bins, durationMs, BIN_MS);
  return Number.isFinite(v) ? v : null;
}
const durationOf = (c: RunConfig): number => (c.scenario.kind === 'flows' ? c.scenario.durationMs : 0);
const flowMBps =
  (i: number): Extract =>
  (o, c) =>
    secondHalf((o as { flows: FlowOut[] }).flows[i], durationOf(c));
const shareOfEqual: Extract = (o, c) => shareOf(flowMBps(0)(o, c), flowMBps(1)(o, c))?.ofEqual ?? null;
const sharePct: Extract = (o, c) => {
  const s = shareOf(flowMBps(0)(o, c), flowMBps(1)(o, c));
  return s ? 100 * s.fraction : null;
};
const utilisation: Extract = (o, c) => {
  const v = flowMBps(0)(o, c);
  const rate = c.scenario.kind === 'flows' ? c.scenario.relay?.rateMbit : undefined;
  return v === null || !rate ? null : (100 * v * MB) / ((rate * 1e6) / 8);
};
const ping =
  (k: 'p50' | 'p99'): Extract =>
  (o) =>
    (o as PingResult)[k];
/** The tail within one run: p99 ÷ p50. */
const pingTail: Extract = (o) => {
  const p = o as PingResult;
  return p.p50 > 0 ? p.p99 / p.p50 : null;
};
const setupRate: Extract = (o) => {
  const s = o as SetupResult;
  return s.elapsedMs > 0 ? s.iterations / (s.elapsedMs / 1000) : null;
};
const setupCpu: Extract = (o) => {
  const s = o as SetupResult;
  return s.iterations > 0 ? s.cpuMs / s.iterations : null;
};

export function series(raw: RawSet, key: string, f: Extract): Array<number | null> {
  const r = raw.get(key);
  if (!r) return [];
  return r.outs.map((o) => (o ? f(o, r.config) : null));
}

// ------------------------------------------------------------------- tables
interface Column {
  title: string;
  digits: number;
  f: Extract;
  /** Baselines: title and the key of the baseline configuration for a row. */
  ratios: Array<{ title: string; base: (c: RunConfig) => string }>;
}
interface TableDef {
  figure: FigureId;
  title: string;
  intro: string;
  columns: Column[];
  /** A line under the table for each of these implementations that has a row. */
  notes?: Partial<Record<ImplName, string>>;
}

const k = (figure: FigureId, group: string, impl: ImplName): string => `${figure}/${group}/${impl}`;
const vs = (figure: FigureId, impl: ImplName) => ({ title: `÷ ${IMPL_LABEL[impl]}`, base: (c: RunConfig) => k(figure, c.group, impl) });

/** The bulk and warm figures' line on dgram-min. */
const FLOOR_NOTES: Partial<Record<ImplName, string>> = {
  'dgram-min':
    `${IMPL_LABEL['dgram-min']}: raw node:dgram's blast (same window, ACKs and go-back-N) with our ${HEADER_SIZE}-byte header encoded and decoded on every datagram, ` +
    "a connection lookup and in-order byte check, and delivery through a stream.Readable: the least any pure-JavaScript transport with this header and node's stream API spends.",
};

/** The ping-pong figure's line on dgram-min. */
const PING_FLOOR_NOTES: Partial<Record<ImplName, string>> = {
  'dgram-min':
    `${IMPL_LABEL['dgram-min']}: the datagram echo with our ${HEADER_SIZE}-byte header encoded and decoded each way, a connection lookup and in-order byte check, ` +
    "and a stream.Duplex at both ends (the echo is `on('data', d => write(d))`, as the streams'): the least any pure-JavaScript transport with this header and node's stream API spends per round trip.",
};

/** A bulk-transfer table (bulk, jumbo): MB/s with ratios against `mbpsBases`, CPU ms/MB against raw dgram. */
function bulkTable(figure: FigureId, title: string, intro: string, mbpsBases: ImplName[], notes?: Partial<Record<ImplName, string>>): TableDef {
  return {
    figure,
    title,
    intro,
    ...(notes ? { notes } : {}),
    columns: [
      { title: 'MB/s', digits: 1, f: bulkMBps, ratios: mbpsBases.map((i) => vs(figure, i)) },
      { title: 'CPU ms/MB', digits: 2, f: cpuPerMB, ratios: [vs(figure, 'dgram')] },
      { title: '2nd half MB/s', digits: 1, f: halfMBps, ratios: [vs(figure, 'dgram')] },
      { title: '2nd half CPU ms/MB', digits: 2, f: halfCpuPerMB, ratios: [vs(figure, 'dgram')] },
    ],
  };
}

function tableDefs(z: Sizes): TableDef[] {
  const mib = (n: number): string => `${n / (1 << 20)} MiB`;
  return [
    bulkTable(
      'bulk',
      `Bulk transfer (${mib(z.bulkBytes)}, loopback)`,
      'Connect, write, and time until the receiver has every byte. CPU: user + system of both processes during the transfer.',
      ['dgram', 'tcp'],
      FLOOR_NOTES,
    ),
    {
      figure: 'warm',
      title: `Bulk transfer, cold and warm (${mib(z.bulkBytes)} ${WARM_TRANSFERS} times, loopback)`,
      intro:
        'Cold: the first transfer in fresh processes (as the bulk figure). Warm: a second transfer of the same size in the same processes, ' +
        'on a new connection (raw node:dgram and the floor: the same sockets, from sequence 0; udx-native: a new stream pair), once the first has completed: ' +
        "the JIT has compiled the hot paths, as in a long-lived process. Warm ÷ cold is taken within each run. Ratios against raw node:dgram's own cold and warm transfers. " +
        `Transfer ${WARM_TRANSFERS}: two more in the same processes, the last of them: by then V8 has stopped recompiling (its deopts and recompiles ` +
        'after the first connection go on into the second and third transfers); the targets stay on the warm (second) transfer.',
      columns: [
        { title: 'cold MB/s', digits: 1, f: bulkMBps, ratios: [vs('warm', 'dgram')] },
        { title: 'warm MB/s', digits: 1, f: warmMBps, ratios: [vs('warm', 'dgram')] },
        { title: 'warm ÷ cold', digits: 2, f: warmOverCold, ratios: [] },
        { title: 'cold CPU ms/MB', digits: 2, f: cpuPerMB, ratios: [] },
        { title: 'warm CPU ms/MB', digits: 2, f: warmCpuPerMB, ratios: [vs('warm', 'dgram')] },
        { title: `transfer ${WARM_TRANSFERS} MB/s`, digits: 1, f: steadyMBps, ratios: [vs('warm', 'dgram')] },
        { title: `transfer ${WARM_TRANSFERS} CPU ms/MB`, digits: 2, f: steadyCpuPerMB, ratios: [vs('warm', 'dgram')] },
      ],
      notes: FLOOR_NOTES,
    },
    bulkTable(
      'jumbo',
      `Bulk transfer at an ${JUMBO_PAYLOAD}-byte payload (${mib(z.bulkBytes)}, loopback)`,
      `The bulk transfer where the path allows large datagrams (loopback's MTU is 64 KiB): raw node:dgram sends ${JUMBO_PAYLOAD}-byte payloads; ` +
        `reliable-dgram runs with \`connection: { maxMss: ${JUMBO_PAYLOAD} }\`, so both ends advertise ${JUMBO_PAYLOAD} and the sender probes up from ${PAYLOAD} (RFC 8899 PLPMTUD). ` +
        'Measured as the bulk figure; ratios against raw node:dgram at the same payload.',
      ['dgram'],
    ),
    {
      figure: 'app',
      title: `App-level transfer: a ${mib(z.appBytes)} file through stream.pipeline (loopback)`,
      intro:
        '`file → file`: the sender runs `pipeline(fs.createReadStream(file), socket)`, the server `pipeline(socket, fs.createWriteStream(out))`; ' +
        'both hash the bytes with sha256 on their way (inside the timed span), and a run counts only if the hashes and the written size match (else it is a failed round). ' +
        "Time: sender's go to the write stream's finish. `memory → memory`: the same size, written from memory and counted (the bulk figure's way), in the same round. " +
        'CPU: both processes.',
      columns: [
        {
          title: 'MB/s',
          digits: 1,
          f: bulkMBps,
          ratios: [vs('app', 'tcp'), { title: `÷ same impl ${APP_MEM}`, base: (c) => k('app', APP_MEM, c.impl) }],
        },
        { title: 'CPU ms/MB', digits: 2, f: cpuPerMB, ratios: [] },
      ],
    },
    {
      figure: 'pingpong',
      title: `64-byte ping-pong (${z.pingCount} round trips after ${z.pingWarmup} warm-up)`,
      intro:
        'One message in flight; no-delay set where the API has it. Round-trip time in µs (nearest-rank percentiles of each run). ' +
        'p99 ÷ p50 is the tail within each run; [min..max] is the spread across runs.',
      columns: [
        { title: 'p50 µs', digits: 1, f: ping('p50'), ratios: [vs('pingpong', 'dgram'), vs('pingpong', 'tcp')] },
        { title: 'p99 µs', digits: 1, f: ping('p99'), ratios: [vs('pingpong', 'dgram')] },
        { title: 'p99 ÷ p50', digits: 2, f: pingTail, ratios: [] },
      ],
      notes: PING_FLOOR_NOTES,
    },
    {
      figure: 'loss',
      title: `Goodput under random loss each way (${mib(z.lossBytes)}, cap ${z.lossCapMs / 1000} s, netlab)`,
      intro: 'The kernel drops UDP datagrams at random in both directions. A run that hits the cap reports what arrived by then (marked *).',
      columns: [
        {
          title: 'MB/s',
          digits: 2,
          f: bulkMBps,
          ratios: [{ title: '÷ same impl lossless', base: (c) => k('loss', '0 % loss', c.impl) }, vs('loss', 'udx'), vs('loss', 'kcp')],
        },
      ],
    },
    {
      figure: 'bottleneck',
      title: `100 Mbit/s bottleneck alone (tbf, ${z.bottleneckMs / 1000} s, second half)`,
      intro:
        'netlab --rate 100mbit shapes loopback (both directions share it). Goodput over the second half of the run. ' +
        `tbf counts whole frames: a ${PAYLOAD}-byte payload travels with ${HEADER_SIZE} bytes of our header, 8 of UDP, 20 of IPv4 and 14 of Ethernet, ` +
        `so ${fmt((12.5 * PAYLOAD) / (PAYLOAD + HEADER_SIZE + 42), 2)} MB/s is the most it can carry; the kernel's TCP sends 64 KiB segments. ` +
        `The second group runs our stack with \`connection: { maxMss: ${JUMBO_PAYLOAD} }\` on both ends (RFC 8899 path MTU probing).`,
      columns: [{ title: 'MB/s', digits: 2, f: flowMBps(0), ratios: [{ title: `÷ ${IMPL_LABEL.tcp}`, base: () => k('bottleneck', '100 Mbit/s', 'tcp') }] }],
    },
    {
      figure: 'share',
      title: `Sharing a 100 Mbit/s bottleneck with one node:net TCP flow (${z.shareMs / 1000} s, second half)`,
      intro:
        'Both flows start together. Share = flow ÷ (flow + TCP), an equal share being 50 %; share ÷ equal = 2·flow ÷ (flow + TCP): 1.00 is a fair split, 0.75..1.25 is within ±25 %. ' +
        describeLo(withEnv(SHARE_LO)),
      columns: [
        { title: 'flow MB/s', digits: 2, f: flowMBps(0), ratios: [] },
        { title: 'TCP MB/s', digits: 2, f: flowMBps(1), ratios: [] },
        { title: 'share %', digits: 1, f: sharePct, ratios: [] },
        { title: 'share ÷ equal', digits: 2, f: shareOfEqual, ratios: [] },
      ],
    },
    {
      figure: 'rtt',
      title: `Long paths: delay relay with a ${z.rttRateMbit} Mbit/s link (second half)`,
      intro: `benchmarks/lib/delay-relay.ts delays each datagram by RTT/2 each way behind a ${z.rttRateMbit} Mbit/s drop-tail queue. Utilisation = payload delivered in the second half ÷ link capacity.`,
      columns: [
        { title: 'utilisation %', digits: 1, f: utilisation, ratios: [vs('rtt', 'udx')] },
        { title: 'MB/s', digits: 2, f: flowMBps(0), ratios: [] },
      ],
    },
    {
      figure: 'setup',
      title: `Connection set-up (${z.setupIterations} × connect, 1 KiB echo, close; sequential)`,
      intro: "An iteration ends when the close handshake has (the peer's FIN after ours: 'end', or 'close').",
      columns: [
        { title: 'conn/s', digits: 0, f: setupRate, ratios: [{ title: '÷ node:net TCP', base: () => k('setup', SETUP_OWN, 'tcp') }] },
        { title: 'client CPU ms/conn', digits: 3, f: setupCpu, ratios: [] },
      ],
    },
  ];
}

const CHART_FILES: Partial<Record<FigureId, string[]>> = {
  bulk: ['bulk.svg', 'cpu.svg'],
  warm: ['warm.svg'],
  app: ['app.svg'],
  jumbo: ['jumbo.svg', 'jumbo-cpu.svg'],
  pingpong: ['pingpong.svg', 'pingpong-p99.svg'],
  loss: ['loss.svg'],
  bottleneck: ['bottleneck.svg'],
  share: ['share.svg'],
  rtt: ['rtt.svg'],
  setup: ['setup.svg'],
};

function rowsOf(raw: RawSet, figure: FigureId): Raw[] {
  return [...raw.values()].filter((r) => r.config.figure === figure);
}

/** A run that hit its cap (BulkOut.capped): it reports what arrived by then. */
const isCapped = (o: ScenarioOut | null): boolean => !!o && 'capped' in o && o.capped;

function cappedMark(r: Raw): string {
  return r.outs.some(isCapped) ? '*' : '';
}

export interface JsonCell {
  column: string;
  values: Array<number | null>;
  summary: Summary | null;
  ratios: Record<string, Summary | null>;
}

function renderTables(raw: RawSet, z: Sizes, skips: Skip[]): { md: string[]; json: unknown[] } {
  const md: string[] = [];
  const json: unknown[] = [];
  for (const t of tableDefs(z)) {
    const rows = rowsOf(raw, t.figure);
    const sk = skips.filter((s) => s.figure === t.figure);
    if (rows.length === 0 && sk.length === 0) continue;
    md.push(`## ${t.title}`, '', t.intro, '');
    const grouped = rows.some((r) => r.config.group !== '' && r.config.group !== rows[0]!.config.group);
    const head = grouped ? ['configuration', 'implementation'] : ['implementation'];
    const nLeft = head.length;
    for (const c of t.columns) head.push(c.title, ...c.ratios.map((r) => r.title));
    md.push(`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < nLeft ? '---' : '---:')).join('|')}|`);
    for (const r of rows) {
      const name = IMPL_LABEL[r.config.impl] + (r.config.figure === 'loss' ? cappedMark(r) : '');
      const cells = grouped ? [r.config.group, name] : [name];
      const jrow: JsonCell[] = [];
      for (const c of t.columns) {
        const v = series(raw, r.config.key, c.f);
        const s = summarise(v);
        cells.push(fmtSummary(s, c.digits));
        const ratios: Record<string, Summary | null> = {};
        for (const rt of c.ratios) {
          const baseKey = rt.base(r.config);
          const ratio = baseKey === r.config.key || !raw.has(baseKey) ? null : pairedRatio(v, series(raw, baseKey, c.f));
          ratios[rt.title] = ratio;
          cells.push(baseKey === r.config.key ? '1' : fmtSummary(ratio, 2));
        }
        jrow.push({ column: c.title, values: v, summary: s, ratios });
      }
      md.push(`| ${cells.join(' | ')} |`);
      json.push({ figure: t.figure, key: r.config.key, group: r.config.group, impl: r.config.impl, cells: jrow, errors: r.errors });
    }
    md.push('');
    for (const [impl, note] of Object.entries(t.notes ?? {})) if (rows.some((r) => r.config.impl === impl)) md.push(`- ${note}`);
    for (const s of sk) md.push(`- ${IMPL_LABEL[s.impl]} not run: ${s.reason}.`);
    const errs = rows.flatMap((r) => r.errors.map((e) => `- ${IMPL_LABEL[r.config.impl]} ${r.config.group}: ${e}`));
    if (errs.length) md.push('', 'Failed rounds:', ...errs);
    if (rows.length > 0) md.push('', ...(CHART_FILES[t.figure] ?? []).map((f) => `![${f}](${f})`));
    md.push('');
  }
  return { md, json };
}

// ------------------------------------------------------------------ targets
export interface Target {
  text: string;
  value: string;
  pass: boolean | null;
}

/**
 * The PASS/FAIL lines: the targets of the current speed issue. Every ratio is paired by round
 * against a baseline measured in the same run (`ratio`); a target whose figure did not run, or
 * produced no value, says "not measured".
 */
export function targets(raw: RawSet): Target[] {
  const med = (key: string, f: Extract): number | null => summarise(series(raw, key, f))?.median ?? null;
  const ratio = (key: string, base: string, f: Extract): number | null =>
    raw.has(key) && raw.has(base) ? (pairedRatio(series(raw, key, f), series(raw, base, f))?.median ?? null) : null;
  const t = (text: string, v: number | null, pass: (x: number) => boolean, show: (x: number) => string): Target =>
    v === null ? { text, value: 'not measured', pass: null } : { text, value: show(v), pass: pass(v) };
  const x2 = (x: number): string => `${fmt(x, 2)} ×`;
  const pct = (x: number): string => `${fmt(x, 1)} %`;
  /** Ours ÷ `impl` in the same figure and group. */
  const vsImpl = (figure: FigureId, group: string, impl: ImplName, f: Extract): number | null => ratio(k(figure, group, 'ours'), k(figure, group, impl), f);
  const bulk = k('bulk', '', 'ours');
  const shareMin = (): number | null => {
    const s = summarise(series(raw, k('share', 'vs TCP', 'ours'), shareOfEqual));
    return s ? s.median : null;
  };
  // The app figure against our bulk transfer: paired by round with the memory → memory group (the bulk
  // figure's transfer at the same size, in the same rounds: the app rows' `÷ same impl memory → memory`);
  // without a round in common, median ÷ median, against the bulk figure if memory → memory has no value.
  const app = ((): { v: number | null; how: string } => {
    const file = k('app', APP_FILE, 'ours');
    const mem = k('app', APP_MEM, 'ours');
    const paired = ratio(file, mem, bulkMBps);
    if (paired !== null) return { v: paired, how: '' };
    const a = med(file, bulkMBps);
    const memMed = med(mem, bulkMBps);
    const b = memMed ?? med(bulk, bulkMBps);
    const how = ` (median ÷ median${memMed === null ? ', bulk figure' : ''})`;
    return { v: a === null || b === null || b === 0 ? null : a / b, how };
  })();
  // Runs of ours at 20 % loss that hit the cap (BulkOut.capped: the rows' `*`), of those that produced a result.
  const capped = ((): { n: number; runs: number } | null => {
    const runs = raw.get(k('loss', '20 % loss', 'ours'))?.outs.filter((o): o is ScenarioOut => o !== null) ?? [];
    return runs.length === 0 ? null : { n: runs.filter(isCapped).length, runs: runs.length };
  })();
  /** At `level` % loss: ≥ `share` × our lossless run, and above udx-native and KCP at the same level. */
  const loss = (level: number, share: number): Target[] => {
    const g = `${level} % loss`;
    return [
      t(`${g} ≥ ${fmt(share, 2)} × our lossless`, ratio(k('loss', g, 'ours'), k('loss', '0 % loss', 'ours'), bulkMBps), (x) => x >= share, x2),
      t(`${g} above udx-native`, vsImpl('loss', g, 'udx', bulkMBps), (x) => x > 1, x2),
      t(`${g} above KCP`, vsImpl('loss', g, 'kcp', bulkMBps), (x) => x > 1, x2),
    ];
  };
  return [
    t('warm bulk (2nd transfer, same processes) ≥ 0.90 × raw node:dgram warm', vsImpl('warm', '', 'dgram', warmMBps), (x) => x >= 0.9, x2),
    t('warm bulk above udx-native warm', vsImpl('warm', '', 'udx', warmMBps), (x) => x > 1, x2),
    t('warm CPU ms/MB (both ends) ≤ 1.15 × raw node:dgram warm', vsImpl('warm', '', 'dgram', warmCpuPerMB), (x) => x <= 1.15, x2),
    t('cold bulk (fresh processes) ≥ 0.70 × raw node:dgram', vsImpl('bulk', '', 'dgram', bulkMBps), (x) => x >= 0.7, x2),
    t(
      `app-level (${APP_FILE}) ≥ 0.85 × our bulk (${APP_MEM})`,
      app.v,
      (x) => x >= 0.85,
      (x) => `${x2(x)}${app.how}`,
    ),
    ...loss(1, 0.85),
    ...loss(5, 0.75),
    t(
      '20 % loss completes within the cap (no run capped)',
      capped?.n ?? null,
      (x) => x === 0,
      (x) => `${x} of ${capped?.runs} runs capped`,
    ),
    t('20 % loss above udx-native', vsImpl('loss', '20 % loss', 'udx', bulkMBps), (x) => x > 1, x2),
    t(
      'against one TCP flow: within ±25 % of an equal share',
      shareMin(),
      (x) => x >= 0.75 && x <= 1.25,
      (x) => `${fmt(x, 2)} × equal share`,
    ),
    t('20 ms RTT through 100 Mbit/s ≥ 90 % utilisation alone', med(k('rtt', '20 ms RTT', 'ours'), utilisation), (x) => x >= 90, pct),
    t('100 ms RTT through 100 Mbit/s ≥ 90 % utilisation alone', med(k('rtt', '100 ms RTT', 'ours'), utilisation), (x) => x >= 90, pct),
    t('ping-pong p50 ≤ 1.05 × raw node:dgram echo', vsImpl('pingpong', '', 'dgram', ping('p50')), (x) => x <= 1.05, x2),
    t('ping-pong p99 ≤ 1.5 × raw node:dgram echo', vsImpl('pingpong', '', 'dgram', ping('p99')), (x) => x <= 1.5, x2),
  ];
}

// ------------------------------------------------------------------- charts
function charts(raw: RawSet): Chart[] {
  const bars = (figure: FigureId, group: string, f: Extract, label = (i: ImplName) => IMPL_LABEL[i]) =>
    rowsOf(raw, figure)
      .filter((r) => r.config.group === group)
      .map((r) => ({ label: label(r.config.impl), impl: r.config.impl, values: series(raw, r.config.key, f) }));
  const groupsOf = (figure: FigureId): string[] => [...new Set(rowsOf(raw, figure).map((r) => r.config.group))];
  const out: Chart[] = [];
  const add = (c: Chart): void => {
    if (c.groups.some((g) => g.bars.length > 0)) out.push(c);
  };
  add({ file: 'bulk.svg', title: 'Bulk transfer', unit: 'MB/s', digits: 1, groups: [{ label: '', bars: bars('bulk', '', bulkMBps) }] });
  add({
    file: 'cpu.svg',
    title: 'CPU per MB, sender + receiver (lower is better)',
    unit: 'ms/MB',
    digits: 2,
    groups: [{ label: '', bars: bars('bulk', '', cpuPerMB) }],
  });
  const warm = rowsOf(raw, 'warm');
  add({
    file: 'warm.svg',
    title: 'Bulk transfer: first in fresh processes (cold), second in the same processes (warm)',
    unit: 'MB/s',
    digits: 1,
    groups: [
      { label: 'cold', bars: warm.map((r) => ({ label: IMPL_LABEL[r.config.impl], impl: r.config.impl, values: series(raw, r.config.key, bulkMBps) })) },
      { label: 'warm', bars: warm.map((r) => ({ label: IMPL_LABEL[r.config.impl], impl: r.config.impl, values: series(raw, r.config.key, warmMBps) })) },
    ],
  });
  add({
    file: 'app.svg',
    title: 'A file through stream.pipeline, and the same bytes memory to memory',
    unit: 'MB/s',
    digits: 1,
    groups: [APP_FILE, APP_MEM].map((g) => ({ label: g, bars: bars('app', g, bulkMBps) })),
  });
  add({
    file: 'jumbo.svg',
    title: `Bulk transfer at an ${JUMBO_PAYLOAD}-byte payload`,
    unit: 'MB/s',
    digits: 1,
    groups: [{ label: '', bars: bars('jumbo', '', bulkMBps) }],
  });
  add({
    file: 'jumbo-cpu.svg',
    title: `CPU per MB at an ${JUMBO_PAYLOAD}-byte payload, sender + receiver (lower is better)`,
    unit: 'ms/MB',
    digits: 2,
    groups: [{ label: '', bars: bars('jumbo', '', cpuPerMB) }],
  });
  add({
    file: 'pingpong.svg',
    title: '64-byte ping-pong round trip, p50 (lower is better)',
    unit: 'µs',
    digits: 1,
    groups: [{ label: '', bars: bars('pingpong', '', ping('p50')) }],
  });
  add({
    file: 'pingpong-p99.svg',
    title: '64-byte ping-pong round trip, p99 (lower is better)',
    unit: 'µs',
    digits: 1,
    groups: [{ label: '', bars: bars('pingpong', '', ping('p99')) }],
  });
  add({
    file: 'loss.svg',
    title: 'Goodput under random loss each way',
    unit: 'MB/s',
    digits: 2,
    groups: groupsOf('loss').map((g) => ({ label: g, bars: bars('loss', g, bulkMBps) })),
  });
  const share: ChartGroup[] = rowsOf(raw, 'share').map((r) => ({
    label: `${IMPL_LABEL[r.config.impl]} against TCP`,
    bars: [
      { label: IMPL_LABEL[r.config.impl], impl: r.config.impl, values: series(raw, r.config.key, flowMBps(0)) },
      { label: 'node:net TCP', impl: 'tcp' as ImplName, values: series(raw, r.config.key, flowMBps(1)) },
    ],
  }));
  add({
    file: 'bottleneck.svg',
    title: '100 Mbit/s bottleneck, one flow alone',
    unit: 'MB/s',
    digits: 2,
    groups: groupsOf('bottleneck').map((g) => ({ label: g, bars: bars('bottleneck', g, flowMBps(0)) })),
  });
  add({ file: 'share.svg', title: '100 Mbit/s bottleneck shared with one node:net TCP flow', unit: 'MB/s', digits: 2, groups: share });
  add({
    file: 'rtt.svg',
    title: 'Link utilisation through the delay relay (100 Mbit/s)',
    unit: '%',
    digits: 1,
    groups: groupsOf('rtt').map((g) => ({ label: g, bars: bars('rtt', g, utilisation) })),
    marker: { value: 90, label: 'target 90' },
  });
  add({
    file: 'setup.svg',
    title: 'Connection set-up: connect, 1 KiB echo, close',
    unit: 'connections/s',
    digits: 0,
    groups: groupsOf('setup').map((g) => ({ label: g, bars: bars('setup', g, setupRate) })),
  });
  return out;
}

export interface Meta {
  date: string;
  mode: 'quick' | 'full';
  node: string;
  cpu: string;
  cpus: number;
  commit: string;
  command: string;
  durationS: number;
  ourApi: string;
}

export function buildReport(raw: RawSet, z: Sizes, skips: Skip[], meta: Meta): { md: string; json: string; charts: Chart[] } {
  const tg = targets(raw);
  const tables = renderTables(raw, z, skips);
  const mark = (p: boolean | null): string => (p === null ? 'n/a ' : p ? 'PASS' : 'FAIL');
  const md = [
    '# reliable-dgram benchmarks',
    '',
    `${meta.mode} run, ${meta.date}, ${meta.durationS.toFixed(0)} s · Node ${meta.node} · ${meta.cpus} × ${meta.cpu} · commit ${meta.commit} · our stack driven through: ${meta.ourApi}`,
    '',
    'Figures are median [min..max] over rounds. Ratios (÷ X) are taken round by round against X measured in the same round, then summarised the same way. MB = 10⁶ bytes. See benchmarks/README.md.',
    '',
    '## Targets (reliable-dgram)',
    '',
    '```',
    ...tg.map((t) => `${mark(t.pass)}  ${t.text}: ${t.value}`),
    '```',
    '',
    ...tables.md,
  ].join('\n');
  const json = JSON.stringify({ meta, sizes: z, targets: tg, rows: tables.json, skipped: skips }, null, 1);
  return { md, json, charts: charts(raw) };
}
