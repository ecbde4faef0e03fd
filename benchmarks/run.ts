// npm run bench [-- --quick] [--only=bulk,warm,app,loss,fair,pingpong] [--rounds=N] [--impls=ours,tcp|all] [--profile] [--save | --out=DIR]
//   --profile (or --only=profile for nothing else): CPU profile of our bulk sender and receiver → profile.md
//   --save: write the committed reference results (benchmarks/results/) instead of benchmarks/results/latest/ (git-ignored)
//
// Runs every configuration as its own set of processes (sender and receiver are
// separate children; loss and bottleneck configurations run inside one netlab
// namespace), rounds interleaved across implementations, and writes
// results.json, results.md and *.svg. See README.md.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { makeAppFile, type AppFile } from './lib/appfile.js';
import { ALL_IMPLS, BENCH_DIR, IMPL_LABEL, LATEST_DIR, MB, REPO_ROOT, RESULTS_DIR, type ImplName } from './lib/common.js';
import { oursApi } from './lib/ours.js';
import { ALL_FIGURES, FIGURE_ALIASES, parseOnly, plan, type RunConfig } from './lib/plan.js';
import { killAll, netlabCheck, runNode } from './lib/proc.js';
import { profileMarkdown } from './lib/profile.js';
import { buildReport, type RawSet } from './lib/report.js';
import type { PingResult, SetupResult } from './lib/roles.js';
import { runScenario, type AppOut, type BulkOut, type ScenarioOut } from './lib/scenarios.js';
import { renderChart } from './lib/svg.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    rounds: { type: 'string' },
    impls: { type: 'string' },
    profile: { type: 'boolean', default: false },
    save: { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(
    `npm run bench -- [--quick] [--only=${ALL_FIGURES.join(',')},profile] [--rounds=N] [--impls=${ALL_IMPLS.join(',')}|all] [--profile] [--save | --out=DIR]\n` +
      `  aliases for --only: ${Object.entries(FIGURE_ALIASES)
        .map(([a, f]) => `${a} = ${f.join(',')}`)
        .join('; ')}\n` +
      `  results go to ${relative(REPO_ROOT, LATEST_DIR)}/ (git-ignored); --save writes the committed ${relative(REPO_ROOT, RESULTS_DIR)}/ instead`,
  );
  process.exit(0);
}

function list<T extends string>(s: string | undefined, all: T[], what: string): T[] {
  if (!s) return all;
  const v = s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  for (const x of v) if (!all.includes(x as T)) throw new Error(`unknown ${what} '${x}' (one of ${all.join(', ')})`);
  return v as T[];
}

const selected = parseOnly(args.only, ['profile']);
// --only=profile alone: the profile and nothing else.
const only = args.only !== undefined && selected.figures.length === 0 ? [] : selected.figures;
const doProfile = !!args.profile || selected.extra.includes('profile');
const implsExplicit = args.impls !== undefined;
const impls = args.impls === 'all' ? ALL_IMPLS : list<ImplName>(args.impls, ALL_IMPLS, 'implementation');
const rounds = args.rounds === undefined ? undefined : Number(args.rounds);
if (rounds !== undefined && !(Number.isInteger(rounds) && rounds > 0)) throw new Error('--rounds takes a positive integer');
if (args.save && args.out) throw new Error('--save writes benchmarks/results/; it does not go with --out');
const outDir = resolve(args.out ?? (args.save ? RESULTS_DIR : LATEST_DIR));
const quick = !!args.quick;

const started = Date.now();
const needsNetlab = only.some((f) => f === 'loss' || f === 'bottleneck' || f === 'share');
const netlab = needsNetlab ? netlabCheck() : { ok: false, reason: 'not needed' };
if (needsNetlab && !netlab.ok) console.log(`bench: ${netlab.reason}; loss, bottleneck and share figures are skipped`);
const ourApi = (await oursApi()).note;
const planned = plan({ quick, rounds, only, impls, implsExplicit }, netlab);
const { skips, sizes } = planned;
let configs = planned.configs;
// KCP's binding is a native build from source, installed on demand (`npm run bench:kcp`), not a devDependency.
try {
  createRequire(import.meta.url).resolve('node-kcp/index.js');
} catch {
  for (const c of configs)
    if (c.impl === 'kcp' && !skips.some((k) => k.figure === c.figure && k.impl === 'kcp')) {
      skips.push({ figure: c.figure, impl: 'kcp', reason: 'node-kcp is not installed (`npm run bench:kcp` builds it)' });
    }
  configs = configs.filter((c) => c.impl !== 'kcp');
}

const PAIR = join(BENCH_DIR, 'lib', 'pair.ts');
// The app figure's input file: made once, on first use, in a temporary directory removed at exit.
let appFile: AppFile | null = null;
async function runOnce(c0: RunConfig): Promise<ScenarioOut> {
  let c = c0;
  if (c.scenario.kind === 'app') {
    if (!appFile) {
      const t = Date.now();
      appFile = makeAppFile(c.scenario.bytes);
      console.log(
        `bench: app figure: ${(appFile.bytes / (1 << 20)).toFixed(0)} MiB of random bytes in ${appFile.dir} (${((Date.now() - t) / 1000).toFixed(1)} s)`,
      );
    }
    c = { ...c, scenario: { ...c.scenario, file: appFile.file, sha256: appFile.sha256, outFile: appFile.outPath(c.impl) } };
  }
  if (c.netlab) return (await runNode(PAIR, JSON.stringify(c.scenario), c.netlab, c.timeoutMs)) as ScenarioOut;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`timed out after ${c.timeoutMs} ms`)), c.timeoutMs);
  });
  try {
    return await Promise.race([runScenario(c.scenario), timeout]);
  } finally {
    clearTimeout(timer);
    killAll();
  }
}

function brief(o: ScenarioOut): string {
  if ('flows' in o) return o.flows.map((f) => `${f.impl} ${(f.bytes / MB).toFixed(1)} MB`).join(', ');
  if ('p50' in o) return `p50 ${(o as PingResult).p50.toFixed(1)} µs, p99 ${(o as PingResult).p99.toFixed(1)} µs`;
  if ('iterations' in o) return `${(o as SetupResult).iterations} in ${(o as SetupResult).elapsedMs.toFixed(0)} ms`;
  const rate = (b: { bytes: number; elapsedMs: number; cpuMs: number }): string =>
    `${(b.bytes / MB / (b.elapsedMs / 1000)).toFixed(1)} MB/s, ${(b.cpuMs / (b.bytes / MB)).toFixed(2)} ms/MB`;
  if ('sha256' in o) return `${rate(o as AppOut)}, sha256 ${(o as AppOut).sha256.slice(0, 12)}… on both ends`;
  const b = o as BulkOut;
  return `${rate(b)}${b.capped ? ' (capped)' : ''}${b.warm ? `; warm: ${rate(b.warm)}${b.warm.capped ? ' (capped)' : ''}` : ''}`;
}

// Rounds interleaved: round r runs every configuration of the figure once, in order.
const raw: RawSet = new Map(configs.map((c) => [c.key, { config: c, outs: [], errors: [] }]));
const total = configs.reduce((s, c) => s + c.rounds, 0);
let done = 0;
console.log(`bench: ${quick ? 'quick' : 'full'} run, ${configs.length} configurations, ${total} runs; our stack via ${ourApi}`);
for (const figure of only) {
  const fc = configs.filter((c) => c.figure === figure);
  const maxRounds = Math.max(0, ...fc.map((c) => c.rounds));
  for (let r = 0; r < maxRounds; r++) {
    for (const c of fc) {
      if (r >= c.rounds) continue;
      const rec = raw.get(c.key)!;
      const t0 = Date.now();
      const tag = `[${++done}/${total}] ${c.figure}${c.group ? ` ${c.group}` : ''} ${IMPL_LABEL[c.impl]} r${r + 1}`;
      try {
        const o = await runOnce(c);
        rec.outs[r] = o;
        console.log(`${tag}: ${brief(o)} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      } catch (e) {
        rec.outs[r] = null;
        const msg = e instanceof Error ? e.message : String(e);
        rec.errors.push(`round ${r + 1}: ${msg}`);
        console.log(`${tag}: FAILED ${msg}`);
      }
    }
  }
}

function git(...a: string[]): string {
  try {
    return execFileSync('git', a, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}
const dirty = git('status', '--porcelain', '--', 'src').length > 0;
const commit = `${git('rev-parse', '--short', 'HEAD') || 'unknown'}${dirty ? ' + uncommitted src/' : ''}`;
const cpuModel = cpus()[0]?.model ?? 'unknown CPU';
const { md, json, charts } = buildReport(raw, sizes, skips, {
  date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  mode: quick ? 'quick' : 'full',
  node: process.versions.node,
  cpu: cpuModel,
  cpus: cpus().length,
  commit,
  command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
  durationS: (Date.now() - started) / 1000,
  ourApi,
});

mkdirSync(outDir, { recursive: true });
const written: string[] = [];
if (doProfile) {
  // One more bulk transfer of ours, each end profiling its main thread from go to the end.
  const dir = join(outDir, 'tmp', `profile-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  try {
    const o = (await runScenario({ kind: 'bulk', impl: 'ours', bytes: sizes.bulkBytes, capMs: 60_000, profileDir: dir })) as BulkOut;
    const parts = [
      '# CPU profile: reliable-dgram bulk transfer',
      '',
      `${(sizes.bulkBytes / (1 << 20)).toFixed(0)} MiB over loopback, ${brief(o)} while profiling (profiling slows it down). ` +
        `Main thread of each process from the start of the transfer to its end, sampled every 100 µs; self time per function, top 20. ` +
        `Our stack via ${ourApi}; ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}, commit ${commit}.`,
      '',
    ];
    for (const side of ['sender', 'receiver']) {
      const f = join(dir, `ours-${side}.cpuprofile`);
      parts.push(existsSync(f) ? profileMarkdown(side, f) : `### ${side}\n\nno profile written\n`);
    }
    parts.push(`Raw profiles: ${relative(REPO_ROOT, dir)} (git-ignored; open in Chrome DevTools → Performance).`, '');
    writeFileSync(join(outDir, 'profile.md'), parts.join('\n'));
    written.push('profile.md');
  } catch (e) {
    console.log(`bench: profile failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}
if (only.length > 0) {
  for (const f of readdirSync(outDir)) if (f.endsWith('.svg')) rmSync(join(outDir, f));
  const profileLink = existsSync(join(outDir, 'profile.md')) ? '\n[CPU profile of our bulk transfer](profile.md)\n' : '';
  writeFileSync(join(outDir, 'results.md'), md + profileLink);
  writeFileSync(join(outDir, 'results.json'), `${json}\n`);
  for (const c of charts) writeFileSync(join(outDir, c.file), renderChart(c));
  written.push('results.md', 'results.json', ...charts.map((c) => c.file));
  console.log(`\n${md.split('\n## ').slice(0, 2).join('\n## ')}`);
}
console.log(`bench: wrote ${written.join(', ')} to ${relative(REPO_ROOT, outDir) || '.'} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
(appFile as AppFile | null)?.remove();
killAll();
process.exit(0);
