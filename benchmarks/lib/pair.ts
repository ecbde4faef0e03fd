// Entry point for one configuration in its own process (used under netlab, so
// the whole set of children shares the namespace): runs the scenario given as
// JSON and prints the outcome as one JSON line.
//   node --import tsx benchmarks/lib/pair.ts '<Scenario JSON>'
import { killAll } from './proc.js';
import { runScenario, type Scenario } from './scenarios.js';

const scenario = JSON.parse(process.argv[2] ?? '{}') as Scenario;
// The namespace's TCP and loopback (README, "Sharing the bottleneck"): RD_TCP_CC (a controller the
// kernel allows in a namespace: reno or bbr here), RD_LO_MTU, RD_LO_GSO=off (TCP sends MTU-sized
// frames, not 64 KiB super-packets). Only inside a netlab namespace: never the host's own settings.
if (process.env.RD_TCP_CC || process.env.RD_LO_MTU) {
  const { execFileSync } = await import('node:child_process');
  const ns = execFileSync('ip', ['netns', 'identify', String(process.pid)], { encoding: 'utf8' }).trim();
  if (ns.startsWith('netlab-')) {
    const { RD_TCP_CC: cc, RD_LO_MTU: mtu } = process.env;
    if (cc) execFileSync('sysctl', ['-qw', `net.ipv4.tcp_congestion_control=${cc}`]);
    if (mtu) execFileSync('ip', ['link', 'set', 'dev', 'lo', 'mtu', mtu]);
    if (mtu && process.env.RD_LO_GSO === 'off') execFileSync('ip', ['link', 'set', 'dev', 'lo', 'gso_max_segs', '1', 'gso_max_size', mtu]);
  }
}
try {
  const out = await runScenario(scenario);
  process.stdout.write(`${JSON.stringify(out)}\n`);
} catch (e) {
  process.stdout.write(`${JSON.stringify({ error: e instanceof Error ? e.message : String(e) })}\n`);
}
killAll();
process.exit(0);
