import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, onTestFinished, test, vi } from 'vitest';
import type { Address } from '../src/endpoint/types.js';
import { NodeClock, UdpTransport, nodeEnv } from '../src/io/index.js';
import { checkPortOpen } from '../src/io/reachability.js';
import { closedUdpPort } from './stream/helpers.js';

const open: UdpTransport[] = [];
async function bind(address: string, port = 0): Promise<UdpTransport> {
  const t = await UdpTransport.bind({ address, port });
  open.push(t);
  return t;
}
afterEach(() => {
  for (const t of open.splice(0)) t.close();
});

function collect(t: UdpTransport): { got: Array<{ data: string; from: Address }>; until(n: number): Promise<void> } {
  const got: Array<{ data: string; from: Address }> = [];
  let waiter: (() => void) | null = null;
  let want = Infinity;
  t.onMessage = (data, from) => {
    got.push({ data: Buffer.from(data).toString(), from });
    if (got.length >= want) waiter?.();
  };
  return {
    got,
    until(n) {
      want = n;
      return got.length >= n ? Promise.resolve() : new Promise((r) => (waiter = r));
    },
  };
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('UdpTransport', () => {
  async function exchange(host: string): Promise<void> {
    const a = await bind(host);
    const b = await bind(host);
    expect(a.address().address).toBe(host);
    expect(a.address().port).toBeGreaterThan(0);
    const ra = collect(a);
    const rb = collect(b);
    a.send(enc('ping'), b.address());
    b.send(enc('pong'), a.address());
    await Promise.all([ra.until(1), rb.until(1)]);
    expect(rb.got[0]).toMatchObject({ data: 'ping', from: { address: host, port: a.address().port } });
    expect(ra.got[0]).toMatchObject({ data: 'pong', from: { address: host, port: b.address().port } });
    expect(a.stats).toMatchObject({ sent: 1, received: 1, sendErrors: 0, queued: 0 });
  }

  test('two transports exchange datagrams both ways (IPv4)', () => exchange('127.0.0.1'));

  test('released(): once the kernel took every datagram their memory is free; never after close', async () => {
    const a = await bind('127.0.0.1');
    const b = await bind('127.0.0.1');
    const rb = collect(b);
    const buf = enc('first');
    a.send(buf, b.address());
    a.send(enc('second'), b.address());
    expect(a.released()).toBe(true);
    buf.set(enc('XXXXX')); // reusing the memory now cannot change what was sent
    await rb.until(2);
    expect(rb.got.map((g) => g.data)).toEqual(['first', 'second']);
    a.close();
    expect(a.released()).toBe(false);
  });

  test('two transports exchange datagrams both ways (IPv6)', async (ctx) => {
    try {
      (await UdpTransport.bind({ address: '::1' })).close();
    } catch {
      ctx.skip(); // no IPv6 loopback here
    }
    await exchange('::1');
  });

  test('500 datagrams sent in one synchronous loop leave during send() (no deferred queue) and all arrive', async () => {
    const a = await bind('127.0.0.1');
    const b = await bind('127.0.0.1');
    const rb = collect(b);
    for (let i = 0; i < 500; i++) a.send(enc(`m${i}`), b.address());
    expect(a.stats.queued).toBe(0); // handed to the kernel already, not waiting for a later turn
    await rb.until(500);
    expect(new Set(rb.got.map((g) => g.data)).size).toBe(500);
    expect(rb.got[0]?.data).toBe('m0');
    expect(a.stats).toMatchObject({ sent: 500, sendErrors: 0, queued: 0, inFlight: 0 });
  });

  test('once a destination has been reached, sends to it are synchronous: no completion callback, no tick per datagram', async () => {
    const a = await bind('127.0.0.1');
    const b = await bind('127.0.0.1');
    const rb = collect(b);
    const to = b.address();
    a.send(enc('first'), to); // an unproven destination: this one carries a completion callback
    expect(a.stats.inFlight).toBe(1);
    await rb.until(1);
    await new Promise((r) => setImmediate(r));
    expect(a.stats).toMatchObject({ sent: 1, inFlight: 0 });
    // Unconnected socket: node:dgram resolves each destination through `lookup`; an IP literal must not cost a tick.
    const nextTick = vi.spyOn(process, 'nextTick');
    try {
      for (let i = 0; i < 100; i++) a.send(enc(`m${i}`), to);
      expect(nextTick).not.toHaveBeenCalled();
    } finally {
      nextTick.mockRestore();
    }
    expect(a.stats).toMatchObject({ sent: 101, inFlight: 0, queued: 0, sendErrors: 0 });
    await rb.until(101);
  });

  test('datagrams from one sender share one Address object; another sender gets its own', async () => {
    const a = await bind('127.0.0.1');
    const c = await bind('127.0.0.1');
    const b = await bind('127.0.0.1');
    const rb = collect(b);
    a.send(enc('a1'), b.address());
    await rb.until(1);
    a.send(enc('a2'), b.address());
    await rb.until(2);
    c.send(enc('c1'), b.address());
    await rb.until(3);
    const [a1, a2, c1] = rb.got;
    expect(a2!.from).toBe(a1!.from);
    expect(c1!.from).not.toBe(a1!.from);
    expect(c1!.from).toEqual({ address: '127.0.0.1', port: c.address().port, family: 'IPv4' });
    expect(a1!.from).toEqual({ address: '127.0.0.1', port: a.address().port, family: 'IPv4' });
  });

  test('double bind rejects with EADDRINUSE', async () => {
    const a = await bind('127.0.0.1');
    await expect(UdpTransport.bind({ address: '127.0.0.1', port: a.address().port })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
  });

  test('socket buffers are raised to at least the OS default', async () => {
    const plain = dgram.createSocket('udp4');
    await new Promise<void>((r) => plain.bind(0, '127.0.0.1', r));
    const def = { recv: plain.getRecvBufferSize(), send: plain.getSendBufferSize() };
    plain.close();
    const sizes = (await bind('127.0.0.1')).bufferSizes();
    expect(sizes.recv).toBeGreaterThanOrEqual(def.recv);
    expect(sizes.send).toBeGreaterThanOrEqual(def.send);
  });

  test('close is idempotent; sends after close do not throw and are counted as loss', async () => {
    const a = await bind('127.0.0.1');
    const b = await bind('127.0.0.1');
    a.send(enc('before'), b.address());
    a.close();
    a.close();
    expect(() => a.send(enc('late'), b.address())).not.toThrow();
    expect(a.stats).toMatchObject({ sendErrors: 1, queued: 0 });
    expect(() => {
      a.ref();
      a.unref();
    }).not.toThrow();
    await new Promise((r) => setTimeout(r, 20));
  });

  test('bad destinations are loss, not exceptions', async () => {
    const a = await bind('127.0.0.1');
    a.send(enc('x'), { address: '127.0.0.1', port: 0 });
    a.send(enc('x'), { address: '::1', port: 9 }); // wrong family for a udp4 socket
    await new Promise((r) => setTimeout(r, 50));
    expect(a.stats.sendErrors).toBe(2);
    expect(a.stats.queued).toBe(0);
  });

  test('connectPeer: sends to the peer work, ICMP unreachable reaches onError', async () => {
    const a = await bind('127.0.0.1');
    const b = await bind('127.0.0.1');
    const rb = collect(b);
    await a.connectPeer(b.address());
    a.send(enc('hello'), b.address());
    a.send(enc('other'), { address: '127.0.0.1', port: 9 }); // not the peer: dropped
    await rb.until(1);
    expect(rb.got.map((g) => g.data)).toEqual(['hello']);
    expect(a.stats).toMatchObject({ sent: 1, sendErrors: 1 });

    const errors: Array<{ code?: string; peer?: Address }> = [];
    a.onError = (err, peer) => errors.push({ code: err.code, peer });
    const bPort = b.address().port;
    b.close(); // the port is now closed: the kernel answers with ICMP port unreachable
    for (let i = 0; i < 5 && errors.length === 0; i++) {
      a.send(enc('anyone?'), { address: '127.0.0.1', port: bPort });
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(errors[0]).toMatchObject({ code: 'ECONNREFUSED', peer: { address: '127.0.0.1', port: bPort } });
  });
});

describe('UdpTransport.setPeer', () => {
  test("talks to the peer only, with the OS socket unconnected: another port of the peer's host is not refused", async () => {
    const a = await bind('127.0.0.1');
    const b = await bind('127.0.0.1');
    const other = await bind('127.0.0.1');
    const ra = collect(a);
    const rb = collect(b);
    await a.setPeer(b.address());
    a.send(enc('hello'), b.address());
    a.send(enc('elsewhere'), other.address()); // not the peer: dropped
    await rb.until(1);
    expect(rb.got.map((g) => g.data)).toEqual(['hello']);
    other.send(enc('stray'), a.address()); // not from the peer: ignored
    b.send(enc('reply'), a.address());
    await ra.until(1);
    expect(ra.got.map((g) => g.data)).toEqual(['reply']);
    expect(a.stats).toMatchObject({ sent: 1, sendErrors: 1, received: 2, stray: 1 });
    // What a peer's reachability check does (reachability.ts): a connected probe from another port
    // of this host. A socket connected to b would make the kernel answer it with port unreachable.
    const refused = await new Promise<boolean>((resolve) => {
      checkPortOpen(a.address(), () => resolve(true));
      setTimeout(() => resolve(false), 300);
    });
    expect(refused).toBe(false);
  });

  test('a closed port is asked about at once: ECONNREFUSED reaches onError without a send', async () => {
    const a = await bind('127.0.0.1');
    const b = await closedUdpPort('127.0.0.1');
    const bAddr = { address: '127.0.0.1', port: b.port };
    onTestFinished(b.close);
    const errors: Array<{ code?: string; peer?: Address }> = [];
    a.onError = (err, peer) => errors.push({ code: err.code, peer });
    await a.setPeer(bAddr);
    await vi.waitFor(() => expect(errors).toEqual([{ code: 'ECONNREFUSED', peer: bAddr }]), { timeout: 2_000 });
  });
});

describe('NodeClock', () => {
  test('fires timers in order, never early, and cancel works', async () => {
    const clock = new NodeClock();
    const t0 = clock.now();
    const fired: Array<[string, number]> = [];
    const done = new Promise<void>((r) => clock.setTimer(t0 + 40, () => r()));
    for (const [name, d] of [
      ['c', 30],
      ['a', 10],
      ['b', 20],
      ['past', -5],
    ] as const) {
      clock.setTimer(t0 + d, () => fired.push([name, clock.now() - t0]));
    }
    const cancelled = clock.setTimer(t0 + 15, () => fired.push(['cancelled', 0]));
    cancelled.cancel();
    cancelled.cancel();
    await done;
    expect(fired.map(([n]) => n)).toEqual(['past', 'a', 'b', 'c']);
    const byName = Object.fromEntries(fired);
    expect(byName.a).toBeGreaterThanOrEqual(10);
    expect(byName.b).toBeGreaterThanOrEqual(20);
    expect(byName.c).toBeGreaterThanOrEqual(30);
  });

  test("unref'd timers do not keep a process alive; ref'd ones do", { timeout: 20_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rdg-clock-'));
    try {
      const mod = pathToFileURL(resolve('src/io/node-clock.ts')).href;
      const script = join(dir, 'child.mts');
      writeFileSync(
        script,
        [
          `import { NodeClock } from ${JSON.stringify(mod)};`,
          `const clock = new NodeClock();`,
          `clock.setTimer(clock.now() + 60_000, () => console.log('unref fired'));`,
          `const refClock = new NodeClock({ ref: true });`,
          `const t = refClock.setTimer(refClock.now() + 60_000, () => console.log('toggled fired'));`,
          `refClock.setRef(t, false);`,
          `refClock.setTimer(refClock.now() + 200, () => console.log('ref fired'));`,
        ].join('\n'),
      );
      const started = Date.now();
      const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((r, j) => {
        const kill = setTimeout(() => {
          child.kill('SIGKILL');
          j(new Error(`child still alive after 15 s: ${out}`));
        }, 15_000);
        child.on('exit', (c) => {
          clearTimeout(kill);
          r(c);
        });
      });
      expect(out.trim()).toBe('ref fired');
      expect(code).toBe(0);
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('nodeEnv', () => {
  test('allocUninitialized gives the size asked for (the datagram pool overwrites it)', () => {
    const m = nodeEnv().allocUninitialized!(256 * 1024);
    expect(m).toBeInstanceOf(Uint8Array);
    expect(m.length).toBe(256 * 1024);
  });

  test('random32 returns integers in [0, 2^32), not all equal, across pool refills', () => {
    const env = nodeEnv();
    const seen = new Set<number>();
    for (let i = 0; i < 3000; i++) {
      const v = env.random32();
      expect(Number.isInteger(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(2 ** 32);
      seen.add(v);
    }
    expect(seen.size).toBeGreaterThan(2900);
  });
});
