// `demo`: N numbered messages through one lossy, reordering, duplicating
// simulated link, first as raw UDP datagrams, then over reliable-dgram. Raw UDP
// loses, repeats and reorders them; reliable-dgram delivers each exactly once,
// in order. All on the simulator's virtual clock, so it takes a moment.

import { connect, createServer, type Socket } from 'reliable-dgram';
import { parse, parseCount, positionals, socketOptions } from './args.js';
import { exit, EXIT_NETWORK, EXIT_OK, watchVerbose } from './runtime.js';
import { parseSimSpec, SIM_CLIENT, SIM_PORT, SIM_SERVER, SimRig, type SimSpec } from './sim.js';

const DEFAULT_LINK = 'loss=0.1,reorder=0.1,duplicate=0.02,delay=5-40';

interface Outcome {
  received: number;
  unique: number;
  missing: number;
  duplicates: number;
  outOfOrder: number;
  ms: number;
}

function tally(ids: number[], n: number, ms: number): Outcome {
  const seen = new Set<number>();
  let duplicates = 0;
  let outOfOrder = 0;
  let high = -1;
  for (const id of ids) {
    if (seen.has(id)) duplicates++;
    else seen.add(id);
    if (id < high) outOfOrder++;
    high = Math.max(high, id);
  }
  return { received: ids.length, unique: seen.size, missing: n - seen.size, duplicates, outOfOrder, ms };
}

function rawUdp(spec: SimSpec, n: number): Outcome {
  const rig = new SimRig(spec);
  const a = rig.net.bind({ address: SIM_CLIENT, port: 0 });
  const b = rig.net.bind({ address: SIM_SERVER, port: SIM_PORT });
  const ids: number[] = [];
  let last = 0;
  b.onMessage = (d) => {
    ids.push(Number(Buffer.from(d).toString('latin1').split(' ')[1]));
    last = rig.net.now;
  };
  // One datagram a millisecond, as an application sending at its own pace would.
  for (let i = 0; i < n; i++) {
    rig.net.clock.setTimer(i, () => a.send(Buffer.from(`msg ${i} `.padEnd(64, '.')), { address: SIM_SERVER, port: SIM_PORT }));
  }
  rig.net.run({ until: 60_000 });
  a.close();
  b.close();
  return tally(ids, n, last);
}

async function reliable(spec: SimSpec, n: number, options: ReturnType<typeof socketOptions>, verbose: boolean): Promise<Outcome & { retransmits: number }> {
  const rig = new SimRig(spec);
  let text = '';
  let done = false;
  let doneAt = 0;
  const server = createServer(rig.server({ ...options }), (s: Socket) => {
    s.setEncoding('latin1');
    s.on('data', (d: string) => (text += d));
    s.on('end', () => {
      done = true;
      doneAt = rig.net.now;
      server.close();
    });
  });
  server.listen();
  const c = connect(rig.client({ ...options }));
  if (verbose) watchVerbose(c, 'demo', rig.now);
  for (let i = 0; i < n; i++) c.write(`${`msg ${i} `.padEnd(63, '.')}\n`);
  c.end();
  c.resume(); // the peer sends nothing, but its FIN must be read for the socket to close
  let closed = false;
  c.on('close', () => (closed = true));
  await rig.run(() => done && closed, 600_000);
  const ids = text
    .split('\n')
    .filter(Boolean)
    .map((l) => Number(l.split(' ')[1]));
  return { ...tally(ids, n, doneAt), retransmits: c.getStats()?.retransmittedSegments ?? 0 };
}

export async function demo(args: string[]): Promise<void> {
  const { values, positionals: got } = parse('demo', args, { messages: { type: 'string', short: 'n' } });
  positionals('demo', got, []);
  const n = parseCount('demo', 'messages', values.messages) ?? 500;
  const specText = typeof values.sim === 'string' ? values.sim : DEFAULT_LINK;
  const spec = parseSimSpec('demo', specText);
  const options = socketOptions('demo', values);
  const say = (s: string): void => void process.stdout.write(`${s}\n`);

  say(`${n} numbered messages, one simulated link: ${specText} (seed ${spec.seed})\n`);
  const raw = rawUdp(spec, n);
  const rel = await reliable(spec, n, options, values.verbose === true);
  const row = (name: string, o: Outcome, extra: string): string =>
    `${name.padEnd(16)}${String(o.unique).padStart(9)}${String(o.missing).padStart(9)}${String(o.duplicates).padStart(12)}${String(o.outOfOrder).padStart(14)}   ${extra}`;
  say(`${''.padEnd(16)}${'arrived'.padStart(9)}${'lost'.padStart(9)}${'duplicated'.padStart(12)}${'out of order'.padStart(14)}`);
  say(row('raw UDP', raw, 'fire and forget'));
  say(row('reliable-dgram', rel, `${rel.retransmits} retransmissions, all there after ${(rel.ms / 1000).toFixed(2)} virtual s`));
  const ok = rel.unique === n && rel.missing === 0 && rel.duplicates === 0 && rel.outOfOrder === 0;
  say(ok ? `\nreliable-dgram: all ${n} messages, each exactly once, in order.` : '\nreliable-dgram: the transfer did not complete');
  exit(ok ? EXIT_OK : EXIT_NETWORK);
}
