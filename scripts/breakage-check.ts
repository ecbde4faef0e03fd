// Mutation check: apply one deliberate breakage at a time to the protocol core,
// run the core test folders, list which tests caught it, and restore the file.
// Usage: npx tsx scripts/breakage-check.ts [name ...]
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';

const FILE = 'src/protocol/connection.ts';
const TESTS = ['test/protocol', 'test/properties', 'test/endpoint.test.ts', 'test/smoke.test.ts', 'test/stream/sim.test.ts'];

const BREAKAGES: Record<string, Array<[string, string]>> = {
  'no retransmission': [['  private retransmit(e: TxEntry, now: number): void {\n', '  private retransmit(e: TxEntry, now: number): void {\n    if (e) return;\n']],
  'TIME_WAIT skipped': [['this.timeWaitAt = now + 2 * this.opts.msl;', 'this.timeWaitAt = now;']],
  'out-of-window RST accepted': [
    ['    if (!this.rcv.acceptable(seq, segLen, this.rcvNxt, wnd)) {', '    if (!(flags & RST) && !this.rcv.acceptable(seq, segLen, this.rcvNxt, wnd)) {'],
    ['      if (seq === this.rcvNxt) {', '      if (true) {'],
  ],
  'window ignored': [['const wndLeft = seqDiff(seqAdd(this.sndUna, this.sndWnd), this.sndNxt);', 'const wndLeft = Infinity;']],
  'FIN delivered before earlier data': [
    ['this.peerFinSeq === undefined || this.peerFinSeq !== this.rcvNxt) return;', 'this.peerFinSeq === undefined) return;'],
  ],
};

const original = readFileSync(FILE, 'utf8');
const only = process.argv.slice(2);
try {
  for (const [name, edits] of Object.entries(BREAKAGES)) {
    if (only.length && !only.includes(name)) continue;
    let src = original;
    for (const [from, to] of edits) {
      if (!src.includes(from)) throw new Error(`breakage '${name}': text not found: ${from}`);
      src = src.replace(from, to);
    }
    writeFileSync(FILE, src);
    const out = '/tmp/breakage.json';
    rmSync(out, { force: true });
    try {
      execFileSync('npx', ['vitest', 'run', ...TESTS, '--reporter=json', `--outputFile=${out}`], { stdio: 'ignore', timeout: 900_000, env: { ...process.env, CI: 'true' } });
    } catch {
      /* failures expected */
    }
    const r = JSON.parse(readFileSync(out, 'utf8')) as { numFailedTests: number; testResults: Array<{ name: string; assertionResults: Array<{ status: string; fullName: string }> }> };
    const failed = r.testResults.flatMap((f) => f.assertionResults.filter((a) => a.status === 'failed').map((a) => `${f.name.replace(process.cwd() + '/', '')}: ${a.fullName}`));
    console.log(`\n## ${name}: ${failed.length} failing test(s)`);
    for (const f of failed.slice(0, 12)) console.log(`- ${f}`);
    if (failed.length > 12) console.log(`- … and ${failed.length - 12} more`);
    writeFileSync(FILE, original);
  }
} finally {
  writeFileSync(FILE, original);
}
