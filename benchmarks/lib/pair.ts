// Entry point for one configuration in its own process (used under netlab, so
// the whole set of children shares the namespace): runs the scenario given as
// JSON and prints the outcome as one JSON line.
//   node --import tsx benchmarks/lib/pair.ts '<Scenario JSON>'
import { applyLo, withEnv } from './lo.js';
import { killAll } from './proc.js';
import { runScenario, type Scenario } from './scenarios.js';

const scenario = JSON.parse(process.argv[2] ?? '{}') as Scenario;
// The namespace's loopback and TCP, as the scenario asks and the environment overrides (lo.ts).
applyLo(withEnv(scenario.kind === 'flows' ? scenario.lo : undefined));
try {
  const out = await runScenario(scenario);
  process.stdout.write(`${JSON.stringify(out)}\n`);
} catch (e) {
  process.stdout.write(`${JSON.stringify({ error: e instanceof Error ? e.message : String(e) })}\n`);
}
killAll();
process.exit(0);
