// Server processes sharing one UDP port (listen({ reusePort: true }), Node >= 22.12):
// connection set-up rate and aggregate echo throughput with 1 and 2 server processes.
//
//   node --import tsx benchmarks/reuse-port.ts [seconds=5] [clientProcs=2] [rounds=3]
//
// Rounds alternate 1 and 2 servers (the table gives medians over rounds). For each: the servers (forked processes) listen on one port; then
// `clientProcs` client processes run, for `seconds` each,
//   setup: 8 loops per process of connect, 1 KiB echo, close (connections per second), and
//   bulk:  8 connections per process, each echoing 64 KiB writes as fast as they come back (MB/s).
// Prints one JSON line per run and a table. Clients and servers share this machine's cores: on
// 2 cores the servers get about one core between them, so 2 servers cannot double the figures;
// with cores to spare (servers ≥ 2, clients elsewhere) each server process adds about one core.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { connect, createServer, type Socket } from '../src/index.js';

const SELF = fileURLToPath(import.meta.url);
const role = process.env.RD_ROLE ?? 'main';

function send(m: unknown): void {
  process.send?.(m);
}

function once<T>(p: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    p.once('message', (m: T) => resolve(m));
    p.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
}

async function server(): Promise<void> {
  let connections = 0;
  const srv = createServer((s) => {
    connections++;
    s.pipe(s);
    s.on('error', () => {});
  });
  srv.on('error', (err) => send({ error: err.message }));
  srv.listen({ port: Number(process.env.RD_PORT), host: '127.0.0.1', reusePort: true }, () => send({ port: (srv.address() as { port: number }).port }));
  process.on('message', (m: string) => {
    if (m === 'count') send({ connections });
  });
  process.on('disconnect', () => process.exit(0));
}

async function setupLoop(port: number, until: number): Promise<number> {
  const msg = randomBytes(1024);
  let n = 0;
  while (performance.now() < until) {
    await new Promise<void>((resolve, reject) => {
      const s: Socket = connect(port, '127.0.0.1', () => s.end(msg));
      let got = 0;
      s.on('data', (d: Buffer) => (got += d.length));
      s.on('error', reject);
      s.on('close', () => (got === msg.length ? resolve() : reject(new Error(`echo ${got}`))));
    });
    n++;
  }
  return n;
}

async function bulkConn(port: number, until: number): Promise<number> {
  const chunk = randomBytes(64 * 1024);
  return new Promise((resolve, reject) => {
    let echoed = 0;
    let written = 0;
    const s: Socket = connect(port, '127.0.0.1', () => pump());
    // Keep at most 1 MiB outstanding (written, not yet echoed).
    const pump = (): void => {
      while (performance.now() < until && written - echoed < 1 << 20) {
        written += chunk.length;
        if (!s.write(chunk)) break;
      }
    };
    s.on('drain', pump);
    s.on('data', (d: Buffer) => {
      echoed += d.length;
      if (performance.now() >= until) {
        s.destroy();
        resolve(echoed);
      } else pump();
    });
    s.on('error', reject);
  });
}

async function client(): Promise<void> {
  const port = Number(process.env.RD_PORT);
  const ms = Number(process.env.RD_MS);
  const kind = process.env.RD_KIND;
  const until = performance.now() + ms;
  const parts = await Promise.all(Array.from({ length: 8 }, () => (kind === 'setup' ? setupLoop(port, until) : bulkConn(port, until))));
  process.send?.({ total: parts.reduce((a, b) => a + b, 0) }, () => process.exit(0));
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 5);
  const clientProcs = Number(process.argv[3] ?? 2);
  const rounds = Number(process.argv[4] ?? 3);
  const rows: Array<{ servers: number; setupPerSec: number; bulkMBps: number; perServer: number[] }> = [];
  for (let round = 0; round < rounds; round++)
    for (const servers of [1, 2]) {
      const procs: ChildProcess[] = [];
      let port = 0;
      for (let i = 0; i < servers; i++) {
        const p = fork(SELF, process.argv.slice(2), { env: { ...process.env, RD_ROLE: 'server', RD_PORT: String(port) } });
        procs.push(p);
        const m = await once<{ port?: number; error?: string }>(p);
        if (m.error) throw new Error(m.error);
        port = m.port!;
      }
      const run = async (kind: string): Promise<number> => {
        const cs = Array.from({ length: clientProcs }, () =>
          fork(SELF, [], { env: { ...process.env, RD_ROLE: 'client', RD_PORT: String(port), RD_MS: String(seconds * 1000), RD_KIND: kind } }),
        );
        const totals = await Promise.all(cs.map((c) => once<{ total: number }>(c)));
        return totals.reduce((a, t) => a + t.total, 0);
      };
      const setups = await run('setup');
      const bytes = await run('bulk');
      const perServer = await Promise.all(
        procs.map(async (p) => {
          const r = once<{ connections: number }>(p);
          p.send('count');
          return (await r).connections;
        }),
      );
      for (const p of procs) p.disconnect();
      const row = { servers, setupPerSec: Math.round(setups / seconds), bulkMBps: Math.round((bytes / seconds / 1e6) * 10) / 10, perServer };
      rows.push(row);
      console.log(JSON.stringify({ bench: 'reuse-port', node: process.version, cores: cpus().length, seconds, clientProcs, round, ...row }));
    }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  console.log(`\n| server processes | connection set-up (connect, 1 KiB echo, close), per s | aggregate echo, MB/s |  (medians of ${rounds} rounds; min–max)`);
  console.log('|---:|---:|---:|');
  for (const n of [1, 2]) {
    const rs = rows.filter((r) => r.servers === n);
    const su = rs.map((r) => r.setupPerSec);
    const mb = rs.map((r) => r.bulkMBps);
    console.log(`| ${n} | ${median(su)} (${Math.min(...su)}–${Math.max(...su)}) | ${median(mb)} (${Math.min(...mb)}–${Math.max(...mb)}) |`);
  }
}

if (role === 'server') await server();
else if (role === 'client') await client();
else await main();
