// Breakage check: a hand-made mutation test. Applies one deliberate defect at a time to the
// source, runs the core test folders, lists the tests that caught it, and restores the file.
// Each breakage is an exact text replacement. When the source moves on and a pattern no longer
// matches (or matches more than once), the script says so ("breakage N: pattern not found in
// FILE") and exits 1, so the check cannot go stale silently; it also exits 1 when a breakage
// applies but no test catches it. Targets are the parts of the core that change least
// (sequence arithmetic, wire decoding, RTO, RACK, CUBIC, reassembly, the byte queue).
// Not part of .ci/run: it runs the tests clean once, then once or twice per breakage.
//
// Usage: npm run breakage [-- name-or-number ...]     (npx tsx scripts/breakage-check.ts --list)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Two stages: the unit tests of the modules broken here (seconds), then, only if they miss it,
// the protocol, property and end-to-end tests (a minute or two). A run that does not finish in
// time (a defect can turn a loop endless) is killed and counts as caught.
const UNIT = [
  'test/wire.test.ts',
  'test/protocol/buffers.test.ts',
  'test/protocol/rtt.test.ts',
  'test/protocol/scoreboard.test.ts',
  'test/protocol/congestion.test.ts',
];
const WIDE = ['test/protocol', 'test/properties', 'test/endpoint.test.ts', 'test/smoke.test.ts', 'test/stream/sim.test.ts'];

interface Breakage {
  name: string;
  file: string;
  /** Exact text in `file` (must occur once) and what replaces it. */
  edits: Array<[from: string, to: string]>;
}

const BREAKAGES: Breakage[] = [
  {
    name: 'sequence comparison ignores wraparound',
    file: 'src/wire/seq.ts',
    edits: [
      [
        'export function seqLt(a: number, b: number): boolean {\n  return ((a - b) | 0) < 0;',
        'export function seqLt(a: number, b: number): boolean {\n  return a < b;',
      ],
    ],
  },
  {
    name: 'reserved flags accepted',
    file: 'src/wire/segment.ts',
    edits: [["if (flags & ~KNOWN_FLAGS) return 'reserved-flags';", "if (flags & ~0xff) return 'reserved-flags';"]],
  },
  {
    name: 'no RTO backoff',
    file: 'src/protocol/recovery/rtt.ts',
    edits: [['if (this.rto < this.o.rtoMax) this.backoff++;', 'if (this.rto < 0) this.backoff++;']],
  },
  {
    name: 'RACK without reordering window or RTT',
    file: 'src/protocol/recovery/rack.ts',
    edits: [['const at = e.sentAt + this.rtt + reoWnd;', 'const at = e.sentAt;']],
  },
  {
    name: 'CUBIC skips the multiplicative decrease',
    file: 'src/protocol/cc/cubic.ts',
    edits: [['this.ssthresh = Math.max(this.cwnd * BETA, Math.min(floor, this.cwnd), 2 * this.mss);', 'this.ssthresh = Math.max(this.cwnd, 2 * this.mss);']],
  },
  {
    name: 'reassembly re-delivers bytes below RCV.NXT',
    file: 'src/protocol/receive/reassembly.ts',
    edits: [['const part = s.data.subarray(seqDiff(nxt, s.start));', 'const part = s.data;']],
  },
  {
    name: 'byte queue misreads slices spanning chunks',
    file: 'src/protocol/byte-queue.ts',
    edits: [['      w += n;\n      off = 0;\n', '      w += n;\n']],
  },
];

const args = process.argv.slice(2);
if (args.includes('--list')) {
  BREAKAGES.forEach((b, i) => {
    console.log(`${i + 1}. ${b.name} (${b.file})`);
  });
  process.exit(0);
}
const selected = BREAKAGES.map((b, i) => ({ ...b, n: i + 1 })).filter((b) => args.length === 0 || args.includes(b.name) || args.includes(String(b.n)));
if (selected.length === 0) {
  console.error(`no breakage named ${args.join(', ')}; --list shows them`);
  process.exit(2);
}

// Check every pattern before running anything, and say which ones no longer apply.
const originals = new Map<string, string>();
const broken = new Map<number, string>(); // breakage number -> the mutated file text
let stale = 0;
for (const b of selected) {
  let text: string;
  try {
    text = originals.get(b.file) ?? readFileSync(b.file, 'utf8');
  } catch {
    console.log(`breakage ${b.n} (${b.name}): file not found: ${b.file}`);
    stale++;
    continue;
  }
  originals.set(b.file, text);
  let src = text;
  let ok = true;
  for (const [from, to] of b.edits) {
    const count = src.split(from).length - 1;
    if (count !== 1) {
      console.log(`breakage ${b.n} (${b.name}): pattern ${count === 0 ? 'not found' : `found ${count} times`} in ${b.file}: ${JSON.stringify(from)}`);
      ok = false;
      break;
    }
    src = src.replace(from, to);
  }
  if (ok) broken.set(b.n, src);
  else stale++;
}

let child: ReturnType<typeof spawn> | null = null;
const restore = (): void => {
  for (const [file, text] of originals) writeFileSync(file, text);
};
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (child?.pid) process.kill(-child.pid, 'SIGKILL');
    restore();
    process.exit(130);
  });
}

const dir = mkdtempSync(join(tmpdir(), 'breakage-'));
type Outcome = { failed: string[]; hung: boolean; secs: number };
/** Runs `tests` (vitest in its own process group, killed whole after `limitMs`); the failing tests. */
async function run(tests: string[], limitMs: number): Promise<Outcome> {
  const out = join(dir, 'report.json');
  rmSync(out, { force: true });
  const t0 = Date.now();
  let hung = false;
  await new Promise<void>((resolve) => {
    const c = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...tests, '--reporter=json', `--outputFile=${out}`], {
      stdio: 'ignore',
      detached: true,
      env: { ...process.env, CI: 'true' },
    });
    child = c;
    const timer = setTimeout(() => {
      hung = true;
      if (c.pid) process.kill(-c.pid, 'SIGKILL');
    }, limitMs);
    c.on('exit', () => {
      clearTimeout(timer);
      child = null;
      resolve();
    });
  });
  const secs = (Date.now() - t0) / 1000;
  if (hung) return { failed: [], hung, secs };
  let r: { testResults: Array<{ name: string; message?: string; assertionResults: Array<{ status: string; fullName: string }> }> };
  try {
    r = JSON.parse(readFileSync(out, 'utf8'));
  } catch {
    return { failed: ['(vitest wrote no report: the run itself failed)'], hung, secs };
  }
  const cwd = `${process.cwd()}/`;
  const failed = r.testResults.flatMap((f) => f.assertionResults.filter((a) => a.status === 'failed').map((a) => `${f.name.replace(cwd, '')}: ${a.fullName}`));
  // A file that failed to load has no assertion results: count it once.
  for (const f of r.testResults) if (f.assertionResults.length === 0 && f.message) failed.push(`${f.name.replace(cwd, '')}: ${f.message.split('\n')[0]}`);
  return { failed, hung, secs };
}

let uncaught = 0;
try {
  if (broken.size > 0) {
    // A clean run of a stage before its first use: its time sets the limit, and tests failing
    // without any breakage (flaky or broken) do not count as catching one.
    const baseline = new Set<string>();
    const clean = async (stage: string, tests: string[]): Promise<Outcome> => {
      const o = await run(tests, 1_800_000);
      for (const f of o.failed) baseline.add(f);
      console.log(`clean ${stage} run: ${o.secs.toFixed(0)} s, ${o.failed.length} failing test(s)${o.failed.length ? ', not counted below:' : ''}`);
      for (const f of o.failed) console.log(`- ${f}`);
      return o;
    };
    const cleanUnit = await clean('unit', UNIT);
    let cleanWide: Outcome | undefined;
    const limit = (clean: Outcome): number => Math.max(120_000, 3 * clean.secs * 1000);
    for (const b of selected) {
      const src = broken.get(b.n);
      if (src === undefined) continue;
      writeFileSync(b.file, src);
      let stage = 'unit';
      let o = await run(UNIT, limit(cleanUnit));
      o.failed = o.failed.filter((f) => !baseline.has(f));
      if (!o.hung && o.failed.length === 0) {
        stage = 'wide';
        if (cleanWide === undefined) {
          writeFileSync(b.file, originals.get(b.file)!);
          cleanWide = await clean('wide', WIDE);
          writeFileSync(b.file, src);
        }
        o = await run(WIDE, limit(cleanWide));
        o.failed = o.failed.filter((f) => !baseline.has(f));
      }
      writeFileSync(b.file, originals.get(b.file)!);
      const verdict = o.hung
        ? `caught: the ${stage} run did not finish in ${o.secs.toFixed(0)} s and was killed`
        : o.failed.length
          ? `caught by ${o.failed.length} ${stage} test(s)`
          : 'NOT CAUGHT';
      console.log(`\n## breakage ${b.n} (${b.name}, ${b.file}): ${verdict} (${o.secs.toFixed(0)} s)`);
      for (const f of o.failed.slice(0, 12)) console.log(`- ${f}`);
      if (o.failed.length > 12) console.log(`- … and ${o.failed.length - 12} more`);
      if (!o.hung && o.failed.length === 0) uncaught++;
    }
  }
} finally {
  restore();
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  `\n${selected.length - stale - uncaught} of ${selected.length} breakages caught${stale ? `, ${stale} no longer apply` : ''}${uncaught ? `, ${uncaught} not caught` : ''}`,
);
process.exit(stale || uncaught ? 1 : 0);
