// npm run demo: the same file and the same numbered messages, sent over raw UDP
// (node:dgram, one datagram each, no reliability) and over reliable-dgram,
// through the same lossy, reordering, duplicating link. Prints what arrived
// side by side and writes demo-results/comparison.svg.
//
//   npx tsx examples/demo.ts [--relay | --netlab] [--size 2MiB] [--messages 2000]
//                            [--loss 5] [--seed 1] [--out demo-results/comparison.svg] [--json]
//
// The link. Loopback never drops, reorders or duplicates on its own, so:
// - default, when netlab can run here (root, nftables, ip netns): the demo
//   re-executes itself under ../shared/tools/netlab, so the kernel drops the
//   datagrams, and a user-space relay in the path adds what the kernel will
//   not do: reordering and duplication (no software loss). Through the relay
//   each datagram crosses lo twice, so netlab gets --loss 3 for ≈5% end to end.
// - otherwise, or with --relay: the relay does all of it (seeded loss,
//   duplication, reordering, delay: the simulator's link model).
// - --netlab: netlab --loss 5 and no relay: drops only, nothing reorders or
//   duplicates, so raw UDP only shows holes.
// Both sides cross the same link one after the other: raw UDP first.
import { mkdirSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Address } from 'reliable-dgram';
import { renderChart } from './lib/chart.js';
import { formatBytes, makeData, messages } from './lib/data.js';
import { netlabAvailable, netlabLoss, REPO_ROOT, runUnderNetlab, selfArgv } from './lib/netlab.js';
import { runRawUdp, type SideOutcome } from './lib/raw-udp.js';
import { describeLink, Relay, type RelayLink } from './lib/relay.js';
import { runReliable } from './lib/stream-side.js';

const CHUNK = 1200; // the stream's default payload per datagram; raw UDP gets the same

function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib)?$/i.exec(s.trim());
  if (!m) throw new Error(`bad size ${s} (e.g. 2MiB, 256k, 100000)`);
  const unit = (m[2] ?? 'b').toLowerCase()[0];
  return Math.round(Number(m[1]) * (unit === 'm' ? 1 << 20 : unit === 'k' ? 1024 : 1));
}

const { values: args } = parseArgs({
  options: {
    relay: { type: 'boolean', default: false },
    netlab: { type: 'boolean', default: false },
    'no-relay': { type: 'boolean', default: false }, // internal: set when re-executed for --netlab
    size: { type: 'string', default: '2MiB' },
    messages: { type: 'string', default: '2000' },
    loss: { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: 'demo-results/comparison.svg' },
    json: { type: 'boolean', default: false },
  },
});

const lossPct = Number(args.loss);
if (!Number.isInteger(lossPct) || lossPct < 0 || lossPct > 99) throw new Error('--loss takes an integer percent 0-99');

// --- choose the link; maybe re-execute under netlab ---
type Mode = 'relay' | 'netlab+relay' | 'netlab';
const inNetlab = netlabLoss() !== undefined;
let mode: Mode;
let why: string;
if (inNetlab) {
  mode = args['no-relay'] ? 'netlab' : 'netlab+relay';
  why =
    mode === 'netlab'
      ? 'kernel drops only (--netlab): loopback never reorders or duplicates, so raw UDP only shows loss here; drop --netlab to add a reordering relay'
      : 'the kernel drops (netlab); the relay adds the reordering and duplication that loopback never does';
} else if (args.relay) {
  mode = 'relay';
  why = '--relay: loss, duplication and reordering all come from the seeded user-space relay';
} else {
  const nl = netlabAvailable();
  if (nl.ok) {
    const rest = process.argv.slice(2).filter((a) => a !== '--netlab');
    if (args.netlab) rest.push('--no-relay');
    // Through the relay every datagram crosses lo twice: drop per crossing so that end to end is ≈ --loss.
    const kernelPct = args.netlab ? lossPct : Math.round(100 * (1 - Math.sqrt(1 - lossPct / 100)));
    console.log(`demo: re-running under ../shared/tools/netlab --loss ${kernelPct} (kernel-made loss)`);
    const r = runUnderNetlab(kernelPct, selfArgv(rest));
    process.exit(r.status ?? 1);
  }
  if (args.netlab) {
    console.error(`demo: --netlab asked for, but ${nl.reason}`);
    process.exit(2);
  }
  mode = 'relay';
  why = `${nl.reason}; so loss, duplication and reordering all come from the seeded user-space relay`;
}

const seed = Number(args.seed);
const link: RelayLink = {
  loss: mode === 'relay' ? lossPct / 100 : 0,
  duplicate: mode === 'netlab' ? 0 : 0.02,
  reorder: mode === 'netlab' ? 0 : 0.05,
  reorderDelay: 5,
  delay: [1, 1],
};
const file = makeData(parseSize(args.size), seed);
const msgs = messages(Number(args.messages));

let linkText: string;
if (mode === 'relay') linkText = `user-space relay (seed ${seed}), each direction: ${describeLink(link)}`;
else if (mode === 'netlab') linkText = `kernel: nftables drops ${netlabLoss()}% of UDP datagrams on lo (netlab), no relay`;
else {
  const hop = netlabLoss() ?? 0;
  const e2e = (1 - (1 - hop / 100) ** 2) * 100;
  linkText =
    `kernel: nftables drops ${hop}% of UDP datagrams on lo (netlab); each datagram crosses lo twice ` +
    `(sender → relay → receiver), ≈${e2e.toFixed(1)}% end to end; relay (seed ${seed}): ${describeLink(link)}`;
}

console.log('reliable-dgram demo: the same data over raw UDP and over reliable-dgram, through the same bad link');
console.log(`mode: ${mode} — ${why}`);
console.log(`link: ${linkText}`);
console.log(`data: ${formatBytes(file.length)} file (${Math.ceil(file.length / CHUNK)} chunks of ${CHUNK} B) + ${msgs.length} messages "msg N"\n`);

// --- run both sides, each through its own relays (or straight through netlab's lo) ---
interface Run {
  out: SideOutcome;
  relays: Relay[];
}

async function side(run: (route: (s: Address) => Promise<Address>) => Promise<SideOutcome>): Promise<Run> {
  const relays: Relay[] = [];
  let n = 0;
  const route = async (server: Address): Promise<Address> => {
    if (mode === 'netlab') return server;
    const r = await Relay.start({ target: server, link, seed: seed + n++ });
    relays.push(r);
    return r.address;
  };
  try {
    const out = await run(route);
    return { out, relays };
  } finally {
    for (const r of relays) r.close();
  }
}

const sum = (rs: Relay[], k: keyof Relay['stats']): number => rs.reduce((s, r) => s + r.stats[k], 0);

const raw = await side((route) => runRawUdp({ file, chunk: CHUNK, msgs, route }));
const rel = await side((route) => runReliable({ file, chunk: CHUNK, msgs, route }));
// Datagrams through the link: what the two ends handed to their UDP sockets, both directions.
const total = (o: SideOutcome): number => o.datagrams.file + o.datagrams.messages;

// --- print ---
const pct = (a: number, b: number): string => `${b === 0 ? 100 : +((a / b) * 100).toFixed(1)}%`;
const rows: Array<[string, string, string]> = [];
const row = (label: string, f: (o: SideOutcome) => string): void => {
  rows.push([label, f(raw.out), f(rel.out)]);
};
row('file bytes delivered', (o) => `${o.file.size - o.file.bytesMissing} / ${o.file.size} (${pct(o.file.size - o.file.bytesMissing, o.file.size)})`);
row('file bytes missing', (o) => String(o.file.bytesMissing));
row('file chunks duplicated', (o) => String(o.file.chunks.duplicates));
row('file chunks out of order', (o) => String(o.file.chunks.outOfOrder));
row('file sha256', (o) => (o.file.sha256Match ? 'match' : 'MISMATCH'));
row('messages delivered', (o) => `${o.messages.score.unique} / ${o.messages.score.total}`);
row('messages missing', (o) => String(o.messages.score.missing));
row('messages duplicated', (o) => String(o.messages.score.duplicates));
row('messages out of order', (o) => String(o.messages.score.outOfOrder));
row('all in order, exactly once', (o) => (o.messages.intact ? 'yes' : 'NO'));
row('time', (o) => `${o.timeMs.toFixed(0)} ms`);
const ratio = (f: (o: SideOutcome) => number): string => `${f(rel.out)} (${(f(rel.out) / Math.max(1, f(raw.out))).toFixed(2)}× raw)`;
rows.push(['datagrams, file', String(raw.out.datagrams.file), ratio((o) => o.datagrams.file)]);
rows.push(['datagrams, messages', String(raw.out.datagrams.messages), ratio((o) => o.datagrams.messages)]);
rows.push(['datagrams through the link', String(total(raw.out)), ratio(total)]);
if (mode !== 'netlab') {
  const did = (r: Run): string => `${sum(r.relays, 'dropped')} dropped, ${sum(r.relays, 'duplicated')} duplicated, ${sum(r.relays, 'reordered')} reordered`;
  rows.push([mode === 'relay' ? 'what the relay did' : 'what the relay did (kernel drops not seen)', did(raw), did(rel)]);
}
const w0 = Math.max(...rows.map((r) => r[0].length)) + 2;
const w1 = Math.max(24, ...rows.map((r) => r[1].length)) + 2;
console.log(`${''.padEnd(w0)}${'raw UDP (node:dgram)'.padEnd(w1)}reliable-dgram`);
for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}${b.padEnd(w1)}${c}`);

const rawOk = raw.out.file.sha256Match && raw.out.messages.intact;
const relOk = rel.out.file.sha256Match && rel.out.messages.intact;
console.log('');
console.log(`raw UDP:        ${rawOk ? 'intact (the link was kind this time)' : 'NOT intact: the application sees holes, duplicates and reordering'}`);
console.log(`reliable-dgram: ${relOk ? 'intact: sha256 match, every message once and in order' : 'NOT intact (a bug: please report)'}`);
const overhead =
  `cost: reliable-dgram sent ${(rel.out.datagrams.file / Math.max(1, raw.out.datagrams.file)).toFixed(2)}× raw's datagrams for the file ` +
  `(ACKs and retransmissions) and ${(rel.out.datagrams.messages / Math.max(1, raw.out.datagrams.messages)).toFixed(2)}× for the messages ` +
  `(small writes share full segments); it took ${(rel.out.timeMs / Math.max(1, raw.out.timeMs)).toFixed(1)}× as long (recovering losses; ` +
  `raw UDP's time is just how long sending took, it never waits for anything).`;
console.log(overhead);

// --- chart ---
const both = (f: (o: SideOutcome) => number): number[] => [f(raw.out), f(rel.out)];
const svg = renderChart({
  title: 'raw UDP vs reliable-dgram over the same lossy, reordering link',
  subtitle: [`mode: ${mode}`, `link: ${linkText}`, `data: ${formatBytes(file.length)} file + ${msgs.length} messages`],
  series: [
    { name: 'raw UDP (node:dgram)', color: '#e4572e' },
    { name: 'reliable-dgram', color: '#2e86ab' },
  ],
  rows: [
    { label: 'file delivered (%)', values: both((o) => (100 * (o.file.size - o.file.bytesMissing)) / o.file.size) },
    { label: 'messages delivered (%)', values: both((o) => (100 * o.messages.score.unique) / o.messages.score.total) },
    { label: 'file bytes missing', values: both((o) => o.file.bytesMissing) },
    { label: 'messages missing', values: both((o) => o.messages.score.missing) },
    { label: 'duplicates (chunks + messages)', values: both((o) => o.file.chunks.duplicates + o.messages.score.duplicates) },
    { label: 'out of order (chunks + messages)', values: both((o) => o.file.chunks.outOfOrder + o.messages.score.outOfOrder) },
    { label: 'time (ms)', values: both((o) => Math.round(o.timeMs)) },
    { label: 'datagrams, file', values: both((o) => o.datagrams.file) },
    { label: 'datagrams, messages', values: both((o) => o.datagrams.messages) },
  ].map((r) => ({ ...r, values: r.values.map((v) => +v.toFixed(1)) })),
  notes: [
    `raw UDP: sha256 ${raw.out.file.sha256Match ? 'match' : 'mismatch'}; messages ${raw.out.messages.intact ? 'intact' : 'not intact'}`,
    `reliable-dgram: sha256 ${rel.out.file.sha256Match ? 'match' : 'mismatch'}; messages ${rel.out.messages.intact ? 'all in order, exactly once' : 'not intact'}`,
    `datagrams: sent by both ends, both directions; reliable-dgram's include ACKs and retransmissions, and it packs small messages into full segments`,
  ],
});
const outPath = resolve(REPO_ROOT, args.out);
mkdirSync(resolve(outPath, '..'), { recursive: true });
writeFileSync(outPath, svg);
console.log(`\nchart: ${relative(process.cwd(), outPath) || outPath}`);

if (args.json) {
  console.log(`RESULT ${JSON.stringify({ mode, raw: raw.out, reliable: rel.out })}`);
}
process.exitCode = relOk ? 0 : 1;
// Every socket is closed by now; if something still holds the loop, say so and leave.
setTimeout(() => {
  console.error('demo: a handle was still open 3 s after the end; exiting');
  process.exit(process.exitCode ?? 1);
}, 3000).unref();
