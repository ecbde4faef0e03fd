// listen({ reusePort: true }): several processes on one UDP port (SO_REUSEPORT), the
// kernel spreading flows over them by 4-tuple. The processes run on Node >= 22.12 (the
// npm binary .ci/run installs, RD_NODE22, when this suite runs on Node 20).
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Address, Transport } from '../../src/endpoint/types.js';
import { connect, createServer, type Socket } from '../../src/index.js';
import { UdpTransport, reusePortSupported } from '../../src/io/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORKER = fileURLToPath(new URL('./fixtures/reuse-port-worker.ts', import.meta.url));

/** A node binary whose dgram has reusePort: this one if it is >= 22.12, else the CI's Node 22. */
function reusePortNode(): string | undefined {
  const [maj = 0, min = 0] = process.versions.node.split('.').map(Number);
  const isNode = !('Bun' in globalThis) && !('Deno' in globalThis);
  if (isNode && (maj > 22 || (maj === 22 && min >= 12))) return process.execPath;
  for (const p of [process.env.RD_NODE22, `${ROOT}.runtimes/node_modules/node22/bin/node`]) if (p && existsSync(p)) return p;
  return undefined;
}
const NODE = reusePortNode();

interface Stats {
  owner: number;
  connections: number;
  bytes: number;
  siblingIds: number;
  rstSent: number;
  pathMigrations: number;
}

class Worker {
  readonly p: ChildProcess;
  private readonly waiters: Array<(m: Record<string, unknown>) => void> = [];
  private readonly inbox: Array<Record<string, unknown>> = [];
  constructor() {
    this.p = fork(WORKER, [], { execPath: NODE, execArgv: ['--import', 'tsx'], cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.p.on('message', (m: Record<string, unknown>) => {
      const w = this.waiters.shift();
      if (w) w(m);
      else this.inbox.push(m);
    });
  }
  private next(): Promise<Record<string, unknown>> {
    const m = this.inbox.shift();
    return m ? Promise.resolve(m) : new Promise((r) => this.waiters.push(r));
  }
  async listen(port: number): Promise<{ port: number; owner: number }> {
    await this.next(); // ready
    const res = this.next();
    this.p.send({ cmd: 'listen', port });
    const m = await res;
    if (m.type !== 'listening') throw new Error(`worker: ${JSON.stringify(m)}`);
    return { port: m.port as number, owner: m.owner as number };
  }
  async stats(): Promise<Stats> {
    const res = this.next();
    this.p.send({ cmd: 'stats' });
    return (await res) as unknown as Stats;
  }
  kill(): void {
    this.p.kill('SIGKILL');
  }
}

/** A client transport whose local address can change mid-connection (a NAT rebinding). */
class Rebinding implements Transport {
  onMessage: ((data: Uint8Array, from: Address) => void) | null = null;
  onError: ((err: NodeJS.ErrnoException, peer?: Address) => void) | null = null;
  private readonly all: UdpTransport[] = [];
  constructor(private cur: UdpTransport) {
    this.use(cur);
  }
  use(t: UdpTransport): void {
    if (!this.all.includes(t)) this.all.push(t);
    this.cur = t;
    t.onMessage = (d, from) => this.onMessage?.(d, from);
  }
  get current(): UdpTransport {
    return this.cur;
  }
  send(data: Uint8Array, to: Address): void {
    this.cur.send(data, to);
  }
  address(): Address {
    return this.cur.address();
  }
  close(): void {
    for (const t of this.all) t.close();
  }
  ref(): void {
    for (const t of this.all) t.ref();
  }
  unref(): void {
    for (const t of this.all) t.unref();
  }
}

/** Reads "owner N\n", then collects the echo. */
function client(sock: Socket): { owner: Promise<number>; received: () => Buffer; until: (n: number, ms: number) => Promise<void> } {
  const chunks: Buffer[] = [];
  let head = '';
  let headDone = false;
  let total = 0;
  let ownerDone: (n: number) => void = () => {};
  const owner = new Promise<number>((r) => (ownerDone = r));
  let waiter: { n: number; done: () => void } | null = null;
  sock.on('data', (d: Buffer) => {
    if (!headDone) {
      const i = d.indexOf(10);
      head += d.subarray(0, i < 0 ? d.length : i + 1).toString();
      if (i < 0) return;
      headDone = true;
      ownerDone(Number(/^owner (\d+)\n$/.exec(head)?.[1] ?? -1));
      d = d.subarray(i + 1);
    }
    chunks.push(d);
    total += d.length;
    if (waiter && total >= waiter.n) waiter.done();
  });
  return {
    owner,
    received: () => Buffer.concat(chunks),
    until: (n, ms) =>
      new Promise((resolve, reject) => {
        if (total >= n) return resolve();
        const t = setTimeout(() => reject(new Error(`echoed ${total} of ${n} bytes after ${ms} ms`)), ms);
        waiter = {
          n,
          done: () => {
            clearTimeout(t);
            resolve();
          },
        };
      }),
  };
}

describe('listen({ reusePort: true })', () => {
  test('fails as net does (listen ENOTSUP) where the runtime lacks it; otherwise two servers in one process share the port', async () => {
    const a = createServer();
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      a.once('error', resolve);
      a.listen({ port: 0, host: '127.0.0.1', reusePort: true }, () => resolve(null));
    });
    if (!(await reusePortSupported())) {
      expect(err).toMatchObject({ code: 'ENOTSUP', syscall: 'listen' });
      expect(err!.message).toMatch(/^listen ENOTSUP: operation not supported on socket 127\.0\.0\.1/);
      return;
    }
    expect(err).toBeNull();
    const port = (a.address() as { port: number }).port;
    const b = createServer();
    await new Promise<void>((resolve, reject) => {
      b.once('error', reject);
      b.listen({ port, host: '127.0.0.1', reusePort: true }, resolve);
    });
    expect((b.address() as { port: number }).port).toBe(port);
    await Promise.all([new Promise((r) => a.close(r)), new Promise((r) => b.close(r))]);
  });
});

describe.skipIf(NODE === undefined)(`two processes on one port (node ${NODE ?? 'missing'})`, () => {
  const workers: Worker[] = [];
  let port = 0;
  const owners: number[] = [];

  beforeAll(async () => {
    const w1 = new Worker();
    workers.push(w1);
    const l1 = await w1.listen(0);
    port = l1.port;
    owners.push(l1.owner);
    // Owner ids come from the pid (mod 256) here: retry in the rare case two collide.
    for (let tries = 0; owners.length < 2 && tries < 5; tries++) {
      const w2 = new Worker();
      const l2 = await w2.listen(port);
      expect(l2.port).toBe(port);
      if (l2.owner === l1.owner) {
        w2.kill();
        continue;
      }
      workers.push(w2);
      owners.push(l2.owner);
    }
    expect(owners).toHaveLength(2);
  }, 30_000);

  afterAll(() => {
    for (const w of workers) w.kill();
  });

  test('40 clients spread over both processes, every echo intact', async () => {
    const results = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const data = randomBytes(16 * 1024);
        const sock = connect(port, '127.0.0.1');
        const c = client(sock);
        const errors: Error[] = [];
        sock.on('error', (e) => errors.push(e));
        const owner = await c.owner;
        sock.end(data);
        await new Promise((r) => sock.on('close', r));
        return { owner, intact: c.received().equals(data), errors };
      }),
    );
    const per = owners.map((o) => results.filter((r) => r.owner === o).length);
    expect(per[0]! + per[1]!).toBe(40);
    expect(per[0]).toBeGreaterThan(0);
    expect(per[1]).toBeGreaterThan(0);
    for (const r of results) {
      expect(r.errors).toEqual([]);
      expect(r.intact).toBe(true);
    }
    const st = await Promise.all(workers.map((w) => w.stats()));
    expect(st.map((s) => s.connections)).toEqual(per);
  }, 60_000);

  test('a client whose address changes mid-connection is neither reset nor misdelivered: the sibling drops its datagrams, and it carries on intact once they reach its owner', async () => {
    const first = await UdpTransport.bind({ address: '127.0.0.1' });
    const tr = new Rebinding(first);
    const sock = connect({ transport: tr, port, host: '127.0.0.1' });
    const errors: Error[] = [];
    sock.on('error', (e) => errors.push(e));
    const c = client(sock);
    const owner = await c.owner;
    const mine = workers[owners.indexOf(owner)]!;
    const sibling = workers[1 - owners.indexOf(owner)]!;
    const sent: Buffer[] = [];
    const send = (n: number): number => {
      const b = randomBytes(n);
      sent.push(b);
      sock.write(b);
      return sent.reduce((s, x) => s + x.length, 0);
    };
    await c.until(send(8192), 10_000);

    let good = first;
    let atSibling = 0;
    let atOwner = 0;
    for (let attempt = 0; attempt < 24 && atSibling === 0; attempt++) {
      const before = await Promise.all([mine.stats(), sibling.stats()]);
      const next = await UdpTransport.bind({ address: '127.0.0.1' });
      tr.use(next); // a new source port: a new 4-tuple, which the kernel may hash to either process
      const want = send(8192);
      await new Promise((r) => setTimeout(r, 400));
      const [m, s] = await Promise.all([mine.stats(), sibling.stats()]);
      if (s.siblingIds > before[1].siblingIds) {
        atSibling++;
        // The sibling neither answered (no RST) nor handed anything to its app.
        expect(s.rstSent).toBe(before[1].rstSent);
        expect(s.connections).toBe(before[1].connections);
        expect(s.bytes).toBe(before[1].bytes);
        expect(errors).toEqual([]);
        expect(sock.destroyed).toBe(false);
        tr.use(good); // the path comes back: retransmissions reach the owner
        await c.until(want, 20_000);
      } else {
        expect(m.pathMigrations).toBeGreaterThan(before[0].pathMigrations); // it followed the client
        atOwner++;
        good = next;
        await c.until(want, 10_000);
      }
    }
    expect(atSibling).toBe(1);
    sock.end();
    await new Promise((r) => sock.on('close', r));
    expect(errors).toEqual([]);
    expect(c.received().equals(Buffer.concat(sent))).toBe(true);
    console.log(`address changes: ${atOwner} landed on the owner (migrated), ${atSibling} on the sibling (dropped, then recovered)`);
  }, 60_000);
});
