// Entry point for one configuration in its own process (used under netlab, so
// the whole set of children shares the namespace): runs the scenario given as
// JSON and prints the outcome as one JSON line.
//   node --import tsx benchmarks/lib/pair.ts '<Scenario JSON>'
import { killAll } from './proc.js';
import { runScenario, type Scenario } from './scenarios.js';

const scenario = JSON.parse(process.argv[2] ?? '{}') as Scenario;
// RD_LO_MTU: the namespace's loopback MTU (README, "Sharing the bottleneck"); netlab's namespace is ours to change.
if (process.env.RD_LO_MTU) {
  const { execFileSync } = await import('node:child_process');
  // Only inside a netlab namespace: never the host's loopback.
  const ns = execFileSync('ip', ['netns', 'identify', String(process.pid)], { encoding: 'utf8' }).trim();
  if (ns.startsWith('netlab-')) execFileSync('ip', ['link', 'set', 'dev', 'lo', 'mtu', process.env.RD_LO_MTU]);
}
try {
  const out = await runScenario(scenario);
  process.stdout.write(`${JSON.stringify(out)}\n`);
} catch (e) {
  process.stdout.write(`${JSON.stringify({ error: e instanceof Error ? e.message : String(e) })}\n`);
}
killAll();
process.exit(0);
