import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Host } from '../../src/endpoint/host.js';
import { NodeClock, UdpTransport, nodeEnv } from '../../src/io/index.js';

const fixture = (name: string): string => new URL(`./fixtures/${name}`, import.meta.url).pathname;

interface HeapReport {
  heap: number;
  connections: number;
  stats: { datagramsIn: number; synCookiesSent: number; synCookiesAccepted: number; backlogFull: number };
}

function ask(child: ChildProcess): Promise<HeapReport> {
  const p = once(child, 'message') as Promise<[HeapReport]>;
  child.send('heap');
  return p.then(([m]) => m);
}

/** Connect, send 1 KiB, wait for its echo: milliseconds taken. */
async function connectAndEcho(host: Host, port: number): Promise<number> {
  const t0 = performance.now();
  const data = new Uint8Array(1024).map((_, i) => i & 255);
  const conn = host.connect({ address: '127.0.0.1', port }, { rto: { rtoMin: 50, rtoMax: 1000, rtoInitial: 200, granularity: 1 } });
  let got = 0;
  await new Promise<void>((resolve, reject) => {
    host.onEvent = (ev) => {
      if (ev.type !== 'conn' || ev.conn !== conn) return;
      if (ev.ev.type === 'established') {
        conn.write(data);
        host.service(conn);
      }
      if (ev.ev.type === 'readable') {
        let c: Uint8Array | null;
        while ((c = conn.read(host.now))) got += c.length;
        if (got >= data.length) resolve();
      }
      if (ev.ev.type === 'error') reject(new Error(ev.ev.code));
    };
  });
  const ms = performance.now() - t0;
  conn.abort(host.now);
  host.service(conn);
  return ms;
}

describe('SYN flood on real loopback sockets (RFC 4987)', () => {
  it('20,000 SYNs from 20,000 spoofed loopback addresses: heap grows < 32 MiB, and a real client connects and echoes within 1 s during and after', async () => {
    const child = fork(fixture('flood-server.ts'), [], { execArgv: ['--expose-gc', '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let flooder: ChildProcess | undefined;
    try {
      const [{ port }] = (await once(child, 'message')) as [{ port: number }];
      const before = await ask(child);
      const transport = await UdpTransport.bind({ address: '127.0.0.1' });
      const host = new Host(transport, new NodeClock({ ref: true }), nodeEnv());
      // The flood comes from its own process, so this one (the real client) is not slowed by it.
      const N = 20_000;
      flooder = fork(fixture('flooder.ts'), [String(port), String(N), '200'], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      const progress: Array<{ sent: number; done?: boolean }> = [];
      let duringMs: number | undefined;
      let flooding = true;
      const finished = new Promise<void>((resolve) => {
        flooder!.on('message', (m: { sent: number; done?: boolean }) => {
          progress.push(m);
          if (!m.done) {
            // Half the flood is in: connect now, while the rest keeps coming.
            void connectAndEcho(host, port).then((ms) => {
              duringMs = ms;
              flooding = progress.at(-1)?.done !== true;
            });
          } else resolve();
        });
      });
      await finished;
      while (duringMs === undefined) await new Promise((r) => setTimeout(r, 5));
      const afterMs = await connectAndEcho(host, port);
      const after = await ask(child);
      host.close();
      const growth = after.heap - before.heap;
      console.log(
        JSON.stringify({
          floodSyns: N,
          echoedWhileFlooding: flooding,
          received: after.stats.datagramsIn - before.stats.datagramsIn,
          cookies: after.stats.synCookiesSent,
          halfOpen: after.connections,
          heapGrowthMiB: +(growth / 2 ** 20).toFixed(2),
          duringMs: Math.round(duringMs),
          afterMs: Math.round(afterMs),
        }),
      );
      const received = after.stats.datagramsIn - before.stats.datagramsIn;
      expect(received).toBeGreaterThan(N / 2); // the flood did arrive (the kernel may drop some)
      expect(after.stats.synCookiesSent).toBeGreaterThanOrEqual(received - 511 - 20); // and past the backlog it was all cookies
      expect(after.connections).toBeLessThanOrEqual(511 + 2); // the backlog, plus the real client's
      expect(growth).toBeLessThan(32 * 2 ** 20);
      expect(duringMs).toBeLessThan(1_000);
      expect(afterMs).toBeLessThan(1_000);
    } finally {
      child.kill('SIGKILL');
      flooder?.kill('SIGKILL');
    }
  });
});
