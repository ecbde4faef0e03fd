// Several processes serving one UDP port, with node:cluster and listen({ reusePort: true })
// (SO_REUSEPORT; Node >= 22.12 or Bun). The kernel spreads incoming flows over the workers
// by address 4-tuple; each connection stays with the worker that accepted it.
//
//   node --import tsx examples/cluster.ts [workers=2] [clients=20]
//
// On Node 20 (no reusePort in node:dgram) listen fails with ENOTSUP, as net's would.
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { connect, createServer } from 'reliable-dgram';
import { watchdog } from './lib/guard.js';

const WORKERS = Number(process.argv[2] ?? 2);
const CLIENTS = Number(process.argv[3] ?? 20);

if (cluster.isPrimary) {
  watchdog('cluster', 60_000);
  // The first worker picks the port; the others join it.
  const first = cluster.fork({ RD_PORT: '0' });
  const port = await new Promise<number>((resolve, reject) => {
    first.on('message', (m: { port?: number; error?: string }) => (m.error ? reject(new Error(m.error)) : resolve(m.port!)));
  }).catch((err: Error) => {
    console.error(`cluster: ${err.message}`);
    process.exit(1);
  });
  const rest = Array.from({ length: WORKERS - 1 }, () => cluster.fork({ RD_PORT: String(port) }));
  await Promise.all(rest.map((w) => new Promise((r) => w.once('message', r))));
  console.log(`${WORKERS} workers listening on udp 127.0.0.1:${port}`);

  // Clients: each learns which worker has its connection, then checks its echo.
  const byWorker = new Map<string, number>();
  await Promise.all(
    Array.from(
      { length: CLIENTS },
      () =>
        new Promise<void>((resolve, reject) => {
          const data = randomBytes(32 * 1024);
          const sock = connect(port, '127.0.0.1', () => sock.end(data));
          const chunks: Buffer[] = [];
          sock.on('data', (d: Buffer) => chunks.push(d));
          sock.on('error', reject);
          sock.on('close', () => {
            const got = Buffer.concat(chunks);
            const nl = got.indexOf(10);
            const who = got.subarray(0, nl).toString();
            if (!got.subarray(nl + 1).equals(data)) reject(new Error(`echo from ${who} differs`));
            byWorker.set(who, (byWorker.get(who) ?? 0) + 1);
            resolve();
          });
        }),
    ),
  );
  for (const [who, n] of [...byWorker].sort()) console.log(`${who}: ${n} connection(s), every echo intact`);
  for (const w of Object.values(cluster.workers ?? {})) w?.disconnect();
} else {
  const server = createServer((s) => {
    s.write(`worker ${cluster.worker?.id} (pid ${process.pid})\n`);
    s.pipe(s);
  });
  server.on('error', (err) => process.send?.({ error: err.message }));
  server.listen({ port: Number(process.env.RD_PORT), host: '127.0.0.1', reusePort: true }, () => {
    process.send?.({ port: (server.address() as { port: number }).port });
  });
  // Leave when the primary disconnects us.
  process.on('disconnect', () => server.close());
}
