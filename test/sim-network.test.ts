import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Address } from '../src/endpoint/types.js';
import { VirtualClock } from '../src/sim/clock.js';
import { SimNetwork, type LinkOptions, type DatagramEvent } from '../src/sim/network.js';
import { Prng, prngEnv } from '../src/sim/prng.js';

const A: Address = { address: '10.0.0.1', port: 1000 };
const B: Address = { address: '10.0.0.2', port: 2000 };

interface Arrival {
  t: number;
  data: Uint8Array;
  from: Address;
}

/** A network with one sender at A and a receiver at B that logs arrivals. */
function pair(link: Partial<LinkOptions> = {}, seed = 7) {
  const net = new SimNetwork({ seed, link });
  const a = net.bind(A);
  const b = net.bind(B);
  const got: Arrival[] = [];
  b.onMessage = (data, from) => got.push({ t: net.now, data, from });
  return { net, a, b, got };
}

function u32Bytes(n: number, size = 4): Uint8Array {
  const d = new Uint8Array(size);
  new DataView(d.buffer).setUint32(0, n);
  return d;
}

function readU32(d: Uint8Array): number {
  return new DataView(d.buffer, d.byteOffset, d.byteLength).getUint32(0);
}

describe('Prng', () => {
  it('same seed gives the same stream, different seeds differ', () => {
    const x = new Prng(123);
    const y = new Prng(123);
    const z = new Prng(124);
    const xs = Array.from({ length: 100 }, () => x.u32());
    expect(Array.from({ length: 100 }, () => y.u32())).toEqual(xs);
    expect(Array.from({ length: 100 }, () => z.u32())).not.toEqual(xs);
  });

  it('next() is in [0,1) and roughly uniform', () => {
    const p = new Prng(1);
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const v = p.next();
      expect(v >= 0 && v < 1).toBe(true);
      buckets[Math.floor(v * 10)]!++;
    }
    for (const b of buckets) expect(Math.abs(b - 10_000)).toBeLessThan(500);
  });

  it('int(lo, hi) covers both ends and nothing outside', () => {
    const p = new Prng(5);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(p.int(-2, 3));
    expect([...seen].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2, 3]);
    expect(() => p.int(3, 2)).toThrow(RangeError);
  });

  it('chance(0) never and chance(1) always fires', () => {
    const p = new Prng(9);
    for (let i = 0; i < 1000; i++) {
      expect(p.chance(0)).toBe(false);
      expect(p.chance(1)).toBe(true);
    }
  });

  it('fork() is deterministic and independent of the parent', () => {
    const p1 = new Prng(77);
    const p2 = new Prng(77);
    const f1 = p1.fork();
    const f2 = p2.fork();
    const s1 = Array.from({ length: 20 }, () => f1.u32());
    expect(Array.from({ length: 20 }, () => f2.u32())).toEqual(s1);
    expect(Array.from({ length: 20 }, () => p1.u32())).not.toEqual(s1);
  });

  it('prngEnv draws from the given prng', () => {
    const env = prngEnv(new Prng(3));
    const ref = new Prng(3);
    expect([env.random32(), env.random32()]).toEqual([ref.u32(), ref.u32()]);
  });
});

describe('VirtualClock', () => {
  it('equal-time events run FIFO, in insertion order', () => {
    const c = new VirtualClock();
    const order: number[] = [];
    for (let i = 0; i < 500; i++) c.setTimer(10, () => order.push(i));
    while (c.runNext());
    expect(order).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });

  it('a timer set in the past runs now, after events already due now', () => {
    const c = new VirtualClock();
    const order: string[] = [];
    c.setTimer(5, () => {
      c.setTimer(1, () => order.push(`late@${c.now()}`));
      order.push('first');
    });
    c.setTimer(5, () => order.push('second'));
    while (c.runNext());
    expect(order).toEqual(['first', 'second', 'late@5']);
  });

  it('cancelled timers never run and leave pending()', () => {
    const c = new VirtualClock();
    const ran: string[] = [];
    c.setTimer(1, () => ran.push('a'));
    const hb = c.setTimer(2, () => ran.push('b'));
    c.setTimer(3, () => ran.push('c'));
    expect(c.pending()).toBe(3);
    hb.cancel();
    hb.cancel();
    expect(c.pending()).toBe(2);
    while (c.runNext());
    expect(ran).toEqual(['a', 'c']);
    expect(c.pending()).toBe(0);
    expect(c.now()).toBe(3);
    expect(c.runNext()).toBe(false);
  });

  it('peekTime skips cancelled events', () => {
    const c = new VirtualClock();
    const h = c.setTimer(1, () => {});
    c.setTimer(4, () => {});
    h.cancel();
    expect(c.peekTime()).toBe(4);
  });

  it('runs any schedule in (time, insertion) order, with cancellations', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.boolean()), { maxLength: 600 }), (specs) => {
        const c = new VirtualClock();
        const ran: number[] = [];
        const handles = specs.map(([t], i) => c.setTimer(t, () => ran.push(i)));
        for (const [i, [, cancel]] of specs.entries()) if (cancel) handles[i]!.cancel();
        while (c.runNext());
        const expected = specs
          .map(([t, cancel], i) => ({ t, cancel, i }))
          .filter((s) => !s.cancel)
          .sort((x, y) => x.t - y.t || x.i - y.i)
          .map((s) => s.i);
        expect(ran).toEqual(expected);
        expect(c.pending()).toBe(0);
      }),
    );
  });
});

describe('SimNetwork delivery', () => {
  it('delivers each datagram once, with a delay inside the configured range, from the sender address', () => {
    const { net, a, got } = pair({ delay: [5, 20] });
    for (let i = 0; i < 300; i++) a.send(u32Bytes(i), B);
    net.run();
    expect(got.map((g) => readU32(g.data)).sort((x, y) => x - y)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    const ts = got.map((g) => g.t);
    expect(Math.min(...ts)).toBeGreaterThanOrEqual(5);
    expect(Math.max(...ts)).toBeLessThanOrEqual(20);
    expect(Math.min(...ts)).toBeLessThan(7); // delays actually spread over the range
    expect(Math.max(...ts)).toBeGreaterThan(18);
    expect(got[0]!.from).toMatchObject(A);
    expect(net.stats.delivered).toBe(300);
  });

  it('copies the datagram at send time, so the caller may reuse its buffer', () => {
    const { net, a, got } = pair();
    const buf = new Uint8Array([1, 2, 3]);
    a.send(buf, B);
    buf.fill(9);
    net.run();
    expect([...got[0]!.data]).toEqual([1, 2, 3]);
  });

  it('loses about the configured fraction of 10,000 datagrams', () => {
    const { net, a, got } = pair({ loss: 0.2 });
    for (let i = 0; i < 10_000; i++) a.send(u32Bytes(i), B);
    net.run();
    // Binomial(10000, 0.8): sd = 40; allow 5 sd.
    expect(Math.abs(got.length - 8000)).toBeLessThan(200);
    expect(net.stats.dropped + net.stats.delivered).toBe(10_000);
    expect(net.trace.filter((e) => e.kind === 'drop').length).toBe(net.stats.dropped);
  });

  it('duplicates about the configured fraction, each datagram at most twice', () => {
    const { net, a, got } = pair({ duplicate: 0.3, delay: [1, 5] });
    for (let i = 0; i < 5000; i++) a.send(u32Bytes(i), B);
    net.run();
    const counts = new Map<number, number>();
    for (const g of got) counts.set(readU32(g.data), (counts.get(readU32(g.data)) ?? 0) + 1);
    expect(counts.size).toBe(5000);
    expect(Math.max(...counts.values())).toBe(2);
    expect(got.length - 5000).toBe(net.stats.duplicated);
    expect(Math.abs(net.stats.duplicated - 1500)).toBeLessThan(170);
    // the two copies are distinct buffers
    const dupId = [...counts].find(([, n]) => n === 2)![0];
    const copies = got.filter((g) => readU32(g.data) === dupId);
    expect(copies[0]!.data).not.toBe(copies[1]!.data);
  });

  it('reordering actually changes arrival order (and without it, order is kept)', () => {
    const order = (reorder: number) => {
      const { net, a, got } = pair({ reorder, reorderDelay: 10 });
      for (let i = 0; i < 200; i++) a.send(u32Bytes(i), B);
      net.run();
      return { ids: got.map((g) => readU32(g.data)), net };
    };
    const inOrder = Array.from({ length: 200 }, (_, i) => i);
    expect(order(0).ids).toEqual(inOrder);
    const { ids, net } = order(0.25);
    expect(ids).not.toEqual(inOrder);
    expect([...ids].sort((x, y) => x - y)).toEqual(inOrder);
    expect(net.stats.reordered).toBeGreaterThan(20);
    // the held-back ones arrive exactly reorderDelay later
    const held = net.trace.filter((e) => e.kind === 'deliver' && e.t === 11).length;
    expect(held).toBe(net.stats.reordered);
  });

  it('corruption flips 1..3 bits but keeps the length', () => {
    const { net, a, got } = pair({ corrupt: 1 });
    const sent = Array.from({ length: 200 }, (_, i) => new Uint8Array(100).fill(i & 0xff));
    for (const d of sent) a.send(d, B);
    net.run();
    expect(got.length).toBe(200);
    got.forEach((g, i) => {
      expect(g.data.byteLength).toBe(100);
      let flipped = 0;
      for (let j = 0; j < 100; j++) {
        let x = g.data[j]! ^ sent[i]![j]!;
        for (; x; x &= x - 1) flipped++;
      }
      expect(flipped).toBeGreaterThanOrEqual(1);
      expect(flipped).toBeLessThanOrEqual(3);
    });
    expect(net.stats.corrupted).toBe(200);
  });

  it('drops datagrams larger than the MTU', () => {
    const { net, a, got } = pair({ mtu: 1200 });
    a.send(new Uint8Array(1200), B);
    a.send(new Uint8Array(1201), B);
    net.run();
    expect(got.map((g) => g.data.byteLength)).toEqual([1200]);
    expect(net.stats.mtuDropped).toBe(1);
    expect(net.trace.some((e) => e.kind === 'mtu-drop' && (e as DatagramEvent).size === 1201)).toBe(true);
  });

  it('serialises through the bandwidth: 10 x 1000 B at 100,000 B/s arrive 10 ms apart', () => {
    const { net, a, got } = pair({ bandwidth: 100_000 });
    for (let i = 0; i < 10; i++) a.send(new Uint8Array(1000), B);
    net.run();
    expect(got.map((g) => g.t)).toEqual([11, 21, 31, 41, 51, 61, 71, 81, 91, 101]);
  });

  it('tail-drops when the bandwidth queue is full, and accepts again once it drains', () => {
    const { net, a, got } = pair({ bandwidth: 100_000, queueBytes: 3000 });
    for (let i = 0; i < 10; i++) a.send(new Uint8Array(1000), B);
    expect(net.stats.queueDropped).toBe(7);
    net.runFor(25); // two of three serialised; 1000 B still waiting
    a.send(new Uint8Array(1000), B);
    a.send(new Uint8Array(1000), B);
    a.send(new Uint8Array(1000), B);
    expect(net.stats.queueDropped).toBe(8);
    net.run();
    expect(got.length).toBe(5);
  });

  it('applies links per direction and lets them change mid-run', () => {
    const net = new SimNetwork({ seed: 1 });
    const a = net.bind(A);
    const b = net.bind(B);
    const atA: number[] = [];
    const atB: number[] = [];
    a.onMessage = (d) => atA.push(readU32(d));
    b.onMessage = (d) => atB.push(readU32(d));
    net.setLink(A.address, B.address, { blackhole: true });
    a.send(u32Bytes(1), B);
    b.send(u32Bytes(2), A);
    net.run();
    expect(atB).toEqual([]);
    expect(atA).toEqual([2]);
    net.setLinkBoth(A.address, B.address, { blackhole: false });
    a.send(u32Bytes(3), B);
    net.run();
    expect(atB).toEqual([3]);
    expect(net.link(A.address, B.address).delay).toEqual([1, 1]);
  });

  it('rejects invalid link options', () => {
    expect(() => new SimNetwork({ link: { loss: 1.5 } })).toThrow(RangeError);
    expect(() => new SimNetwork().setLink('a', 'b', { delay: [5, 1] })).toThrow(RangeError);
  });
});

describe('SimNetwork sockets', () => {
  it('throws EADDRINUSE for a bound address:port, and frees it on close', () => {
    const net = new SimNetwork();
    const t = net.bind(A);
    let err: NodeJS.ErrnoException | undefined;
    try {
      net.bind({ ...A });
    } catch (e) {
      err = e as NodeJS.ErrnoException;
    }
    expect(err?.code).toBe('EADDRINUSE');
    expect(() => net.bind({ address: '10.0.0.9', port: A.port })).not.toThrow();
    t.close();
    expect(() => net.bind(A)).not.toThrow();
  });

  it('picks ephemeral ports deterministically from 49152, skipping bound ones', () => {
    const net = new SimNetwork();
    net.bind({ address: '10.0.0.1', port: 49154 });
    const ports = [0, 0, 0].map(() => net.bind({ address: '10.0.0.1', port: 0 }).address().port);
    expect(ports).toEqual([49152, 49153, 49155]);
    const v6 = net.bind({ address: '::1', port: 0 }).address();
    expect(v6).toEqual({ address: '::1', port: 49156, family: 'IPv6' });
    expect(net.bind({ address: '10.0.0.1', port: 7 }).address().family).toBe('IPv4');
  });

  it('drops datagrams to an unbound port as unreachable, silently by default', () => {
    const net = new SimNetwork();
    const a = net.bind(A);
    const errs: unknown[] = [];
    a.onError = (e) => errs.push(e);
    a.send(new Uint8Array(4), B);
    net.run();
    expect(net.stats.unreachable).toBe(1);
    expect(net.trace.map((e) => e.kind)).toEqual(['send', 'unreachable']);
    expect(errs).toEqual([]);
  });

  it('reports ECONNREFUSED to the sender when icmpUnreachable is on', () => {
    const net = new SimNetwork({ icmpUnreachable: true });
    const a = net.bind(A);
    const errs: Array<[string | undefined, Address | undefined]> = [];
    a.onError = (e, peer) => errs.push([e.code, peer]);
    a.send(new Uint8Array(4), B);
    net.run();
    expect(errs).toEqual([['ECONNREFUSED', { ...B, family: 'IPv4' }]]);
  });

  it('delivers to a wildcard-bound receiver; a closed socket neither sends nor receives', () => {
    const net = new SimNetwork();
    const a = net.bind(A);
    const w = net.bind({ address: '0.0.0.0', port: B.port });
    const got: Address[] = [];
    w.onMessage = (_d, from) => got.push(from);
    a.send(new Uint8Array(1), B);
    net.run();
    expect(got).toEqual([{ ...A, family: 'IPv4' }]);
    w.close();
    a.send(new Uint8Array(1), B);
    a.close();
    a.send(new Uint8Array(1), B);
    net.run();
    expect(got.length).toBe(1);
    expect(net.stats.sent).toBe(2);
    expect(net.stats.unreachable).toBe(1);
  });
});

describe('SimNetwork running and tracing', () => {
  it('run({until}) stops before later events and sets the clock to until', () => {
    const net = new SimNetwork();
    const ran: number[] = [];
    for (const t of [5, 10, 20]) net.at(t, () => ran.push(t));
    expect(net.run({ until: 12 })).toBe(2);
    expect(net.now).toBe(12);
    expect(ran).toEqual([5, 10]);
    expect(net.idle()).toBe(false);
    expect(net.run({ until: 20 })).toBe(1);
    expect(net.now).toBe(20);
    expect(net.runFor(30)).toBe(0);
    expect(net.now).toBe(50);
    expect(net.idle()).toBe(true);
  });

  it('run({maxEvents}) stops after that many events without jumping the clock', () => {
    const net = new SimNetwork();
    for (const t of [1, 2, 3, 4]) net.at(t, () => {});
    expect(net.run({ maxEvents: 2, until: 100 })).toBe(2);
    expect(net.now).toBe(2);
    expect(net.clock.pending()).toBe(2);
  });

  it('record() stamps the current virtual time', () => {
    const net = new SimNetwork();
    net.at(42, () => net.record({ kind: 'state', from: 'LISTEN', to: 'SYN_RCVD', t: -1 }));
    net.run();
    expect(net.trace).toEqual([{ t: 42, kind: 'state', from: 'LISTEN', to: 'SYN_RCVD' }]);
  });

  it('records nothing when trace is off', () => {
    const net = new SimNetwork({ trace: false });
    const a = net.bind(A);
    net.bind(B);
    a.send(new Uint8Array(3), B);
    net.record({ kind: 'x' });
    net.run();
    expect(net.trace).toEqual([]);
    expect(net.stats.delivered).toBe(1);
  });

  /** A busy two-way exchange under every impairment. */
  function scenario(seed: number, link: Partial<LinkOptions> = {}) {
    const net = new SimNetwork({
      seed,
      link: { loss: 0.1, duplicate: 0.05, reorder: 0.1, corrupt: 0.05, delay: [2, 30], bandwidth: 1e6, ...link },
    });
    const a = net.bind(A);
    const b = net.bind({ address: '10.0.0.2', port: 0 });
    b.onMessage = (d, from) => {
      if (d[0]! < 200) b.send(new Uint8Array(d.byteLength).fill(d[0]! + 1), from);
    };
    a.onMessage = (d) => net.record({ kind: 'echo', v: d[0] });
    for (let i = 0; i < 100; i++) net.at(i * 3, () => a.send(new Uint8Array(50 + i).fill(i), b.address()));
    net.run();
    return net;
  }

  it('same seed gives the same trace and traceHash; a different seed does not', () => {
    const x = scenario(42);
    const y = scenario(42);
    const z = scenario(43);
    expect(x.trace.length).toBeGreaterThan(300);
    expect(y.trace).toEqual(x.trace);
    expect(y.traceHash()).toBe(x.traceHash());
    expect(z.traceHash()).not.toBe(x.traceHash());
    expect(x.traceHash()).toMatch(/^[0-9a-f]{16}$/);
  });

  it('keeps random draws per datagram fixed, so a zero-probability option does not reshuffle the rest', () => {
    const kinds = (net: SimNetwork) => net.trace.filter((e) => e.kind === 'drop').map((e) => e.t);
    // Same drops whether corruption is on or off, for a one-way stream (no feedback).
    const run = (corrupt: number) => {
      const net = new SimNetwork({ seed: 9, link: { loss: 0.3, corrupt } });
      const a = net.bind(A);
      net.bind(B);
      for (let i = 0; i < 500; i++) net.at(i, () => a.send(new Uint8Array(10), B));
      net.run();
      return kinds(net);
    };
    expect(run(0.5)).toEqual(run(0));
  });

  it('traceHash is FNV-1a 64 over the JSON lines of the trace', () => {
    const net = scenario(5);
    let h = 0xcbf29ce484222325n;
    for (const ev of net.trace) {
      const s = `${JSON.stringify(ev)}\n`;
      for (let i = 0; i < s.length; i++) {
        h ^= BigInt(s.charCodeAt(i));
        h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
      }
    }
    expect(net.traceHash()).toBe(h.toString(16).padStart(16, '0'));
  });
});

describe('src/sim stays virtual', () => {
  it('never names real timers, wall clocks, ambient randomness or sockets', () => {
    const dir = join(import.meta.dirname, '../src/sim');
    const banned = [
      'set' + 'Timeout',
      'set' + 'Interval',
      'set' + 'Immediate',
      'Date' + '.now',
      'performance' + '.now',
      'Math' + '.random',
      'crypto',
      'node:' + 'dgram',
    ];
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      const src = readFileSync(join(dir, f), 'utf8');
      for (const word of banned) expect(src.includes(word), `${f} contains ${word}`).toBe(false);
    }
  });
});
