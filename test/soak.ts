// Soak: many random schedules through the property harness, every one checked
// against the invariants of docs/ARCHITECTURE.md (1-8 and 10 on every schedule, 9 on the
// ones with forged datagrams). Runs on worker threads, one per core (at most 2 by default).
//
//   npm run test:soak                       100,000 schedules
//   npm run test:soak -- 2000               a quick one (or SOAK_COUNT=2000)
//   npm run test:soak -- --seed 7           another base seed (or SOAK_SEED)
//   npm run test:soak -- --workers 1        single-threaded (or SOAK_WORKERS)
//   npm run test:soak -- --replay 1234      re-run schedule #1234 of the base seed and print it
//
// Schedule #i is fc.sample(profile(i), { seed: base + i }): the same number always
// gives the same scenario, so a failure is replayed by its number.

import os from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { checkAll, checkUnharmed } from './properties/checks.js';
import { printScenario, runScenario, scenarioArb, type GenOptions, type Scenario } from './properties/harness.js';

/** Schedule kinds, taken in turn. */
const PROFILES: Array<{ name: string; opts: GenOptions }> = [
  { name: 'mixed', opts: { destroy: true, noEnd: true, simultaneous: true } },
  { name: 'lossy', opts: { simultaneous: true } },
  { name: 'wrap', opts: { wrapIss: true, destroy: true } },
  { name: 'inject', opts: { injections: true, maxPairs: 2, maxClientHosts: 2 } },
  { name: 'many', opts: { maxPairs: 4, maxClientHosts: 2, maxBytes: 16 * 1024, maxOps: 4 } },
  { name: 'timewait', opts: { twBlackhole: true, simultaneous: true } },
  { name: 'blackhole', opts: { blackholeForever: true, simultaneous: true } },
  // Issue 14: what users meet. Minute-long outages with the default retry budget; one direction
  // losing 30-50 %; readers that stall for up to 70 s; and apps that destroy mid-transfer.
  { name: 'outage', opts: { outages: true, destroy: true } },
  { name: 'oneway', opts: { oneWayLoss: true, maxLoss: 0.1, simultaneous: true } },
  { name: 'stalls', opts: { longStalls: true, destroy: true, noEnd: true } },
  // Path MTU probing over links that drop the larger probes, and MTU changes mid-transfer.
  { name: 'pmtu', opts: { pmtu: true, destroy: true, simultaneous: true } },
];
const ARBS = PROFILES.map((p) => scenarioArb(p.opts));

function schedule(base: number, i: number): { sc: Scenario; profile: string } {
  const k = i % PROFILES.length;
  const sc = fc.sample(ARBS[k]!, { seed: (base + i) | 0, numRuns: 1 })[0]!;
  return { sc, profile: PROFILES[k]!.name };
}

function check(sc: Scenario): string[] {
  const r = runScenario(sc);
  const v = checkAll(r);
  if (sc.injections.length > 0) v.push(...checkUnharmed(r));
  return [...new Set(v)];
}

interface Failure {
  i: number;
  profile: string;
  violations: string[];
  scenario: string;
}
type Msg = { type: 'progress'; done: number } | { type: 'failure'; f: Failure } | { type: 'done'; done: number };

function runRange(base: number, from: number, count: number, step: number, post: (m: Msg) => void): void {
  let done = 0;
  for (let i = from; i < count; i += step) {
    const { sc, profile } = schedule(base, i);
    let v: string[];
    try {
      v = check(sc);
    } catch (e) {
      v = [`threw: ${(e as Error).stack ?? String(e)}`];
    }
    if (v.length > 0) post({ type: 'failure', f: { i, profile, violations: v, scenario: printScenario(sc) } });
    if (++done % 250 === 0) post({ type: 'progress', done: 250 });
  }
  post({ type: 'done', done: done % 250 });
}

function arg(name: string): string | undefined {
  const k = process.argv.indexOf(name);
  return k >= 0 ? process.argv[k + 1] : undefined;
}

async function main(): Promise<void> {
  const positional = process.argv.slice(2).find((a, k, all) => /^\d+$/.test(a) && !(all[k - 1] ?? '').startsWith('--'));
  const count = Number(positional ?? process.env.SOAK_COUNT ?? 100_000);
  const base = Number(arg('--seed') ?? process.env.SOAK_SEED ?? 1);
  const replay = arg('--replay');
  if (replay !== undefined) {
    const { sc, profile } = schedule(base, Number(replay));
    const v = check(sc);
    console.log(`schedule #${replay} (base seed ${base}, profile ${profile})\n${printScenario(sc)}`);
    console.log(v.length ? `violations:\n  ${v.join('\n  ')}` : 'all invariants hold');
    process.exitCode = v.length ? 1 : 0;
    return;
  }
  const workers = Math.max(1, Number(arg('--workers') ?? process.env.SOAK_WORKERS ?? Math.min(2, os.availableParallelism())));
  console.log(`soak: ${count} schedules, base seed ${base}, ${workers} worker(s), profiles ${PROFILES.map((p) => p.name).join('/')}`);
  const t0 = performance.now();
  let done = 0;
  let lastPrint = 0;
  const failures: Failure[] = [];
  const onMsg = (m: Msg) => {
    if (m.type === 'failure') {
      failures.push(m.f);
      if (failures.length <= 20) console.log(`FAIL #${m.f.i} (${m.f.profile}): ${m.f.violations.slice(0, 3).join('; ')}`);
      return;
    }
    done += m.done;
    const now = performance.now();
    if (now - lastPrint > 10_000) {
      lastPrint = now;
      const s = (now - t0) / 1000;
      console.log(`  ${done}/${count} schedules, ${failures.length} failing, ${s.toFixed(0)} s (${(done / s).toFixed(0)}/s)`);
    }
  };
  await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      if (workers === 1) {
        runRange(base, 0, count, 1, onMsg);
        return Promise.resolve();
      }
      return new Promise<void>((resolve, reject) => {
        // The worker runs this same file, after registering tsx's loader in its thread.
        const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(import.meta.url)}); })`;
        const wk = new Worker(boot, { eval: true, workerData: { base, from: w, count, step: workers } });
        wk.on('message', onMsg);
        wk.on('error', reject);
        wk.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker ${w} exited with ${code}`))));
      });
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  console.log(`soak: ${done} schedules in ${secs.toFixed(1)} s (${(done / secs).toFixed(0)}/s), ${failures.length} failing`);
  failures.sort((a, b) => a.i - b.i);
  for (const f of failures.slice(0, 5)) {
    const more = f.violations.length > 8 ? `\n  (${f.violations.length - 8} more)` : '';
    console.log(
      `\n#${f.i} (${f.profile}) — replay: npx tsx test/soak.ts --seed ${base} --replay ${f.i}\n  ${f.violations.slice(0, 8).join('\n  ')}${more}\n  ${f.scenario}`,
    );
  }
  if (failures.length > 5)
    console.log(
      `\n…and ${failures.length - 5} more: ${failures
        .slice(5, 50)
        .map((f) => f.i)
        .join(', ')}`,
    );
  process.exitCode = failures.length > 0 ? 1 : 0;
}

if (isMainThread) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 2;
  });
} else {
  const d = workerData as { base: number; from: number; count: number; step: number };
  runRange(d.base, d.from, d.count, d.step, (m) => parentPort!.postMessage(m));
}
