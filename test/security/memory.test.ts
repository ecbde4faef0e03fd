import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Endpoint } from '../../src/endpoint/endpoint.js';
import { PathValidator, type PathStats } from '../../src/endpoint/path.js';
import type { Connection } from '../../src/protocol/connection.js';
import { Prng, prngEnv } from '../../src/sim/prng.js';
import { ACK, FIN, SYN, encode, type Segment } from '../../src/wire/segment.js';

const fixture = (name: string): string => new URL(`./fixtures/${name}`, import.meta.url).pathname;

function seg(over: Partial<Segment>): Segment {
  return { flags: ACK, dstId: 0, srcId: 0, seq: 0, ack: 0, window: 65535, tsVal: 0, tsEcr: 0, payload: new Uint8Array(0), ...over };
}

describe('resource bounds', () => {
  const idlePairs = (seconds: number): number => {
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', fixture('idle-pairs.ts'), '2000', String(seconds)], { encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').at(-1)!) as { pairs: number; established: number; bytesPerPair: number };
    expect(r.established).toBe(2000);
    expect(r.bytesPerPair).toBeGreaterThan(500); // it measured something
    return r.bytesPerPair;
  };

  it('a connection pair idle since its handshake (both ends, core objects) holds at most 9 KiB of heap, measured over 2,000 pairs', () => {
    // 8.5 KiB: the keepalive timer, on by default (issue 14), adds a wake entry per connection (~90 bytes).
    // 9 KiB: the default controller, cubic-lt (issue 17), keeps a path model beside CUBIC's state (~200 bytes).
    // Connections with the same settings share one resolved options object (~300 bytes each).
    expect(idlePairs(5)).toBeLessThanOrEqual(9 * 1024);
  });

  it('once a timer has run on it (keepalive, after 15 s), an idle pair holds at most 8 KiB: drained queues give back their memory', () => {
    // V8 keeps a drained array's capacity; the segment, event and scoreboard queues (~150 bytes each,
    // six per connection) are let go when the connection is idle (Tcb.releaseIdle).
    expect(idlePairs(20)).toBeLessThanOrEqual(8 * 1024);
  });

  it('a fresh endpoint holds at most 6 KiB of heap: bounded tables (TIME_WAIT, path validation) are made as they first fill', () => {
    // A socket-per-connection client makes an endpoint per connect; lru-cache preallocated 16 384
    // TIME_WAIT slots (~300 KB and ~1.4 ms) in each, and two 64-slot tables made at once held ~9 KiB.
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', fixture('endpoints.ts'), '500'], { encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').at(-1)!) as { endpoints: number; bytesPerEndpoint: number };
    expect(r.endpoints).toBe(500);
    expect(r.bytesPerEndpoint).toBeGreaterThan(500); // it measured something
    expect(r.bytesPerEndpoint).toBeLessThanOrEqual(6 * 1024); // ~3.0-3.6 KiB on Node 20, 22 and 24
  });

  it('the connection table stops at maxConnections, however many SYNs arrive', () => {
    const ep = new Endpoint(prngEnv(new Prng(1)), { backlog: 100_000, maxConnections: 300 });
    ep.listen();
    const r = new Prng(2);
    for (let i = 0; i < 2_000; i++) {
      ep.handleDatagram(encode(seg({ flags: SYN, srcId: r.u32(), seq: r.u32(), mss: 1200 })), { address: `10.1.${i >> 8}.${i & 255}`, port: 1 }, i);
      while (ep.pollTransmit());
    }
    expect(ep.connectionCount).toBe(300);
    expect(ep.stats.tableFull).toBe(1_700);
  });

  it('the TIME_WAIT table stops at maxTimeWait, dropping the oldest record (docs/ARCHITECTURE.md, Resource bounds)', () => {
    const A = { address: '10.0.0.1', port: 1 };
    const B = { address: '10.0.0.2', port: 2 };
    const a = new Endpoint(prngEnv(new Prng(3)), { maxTimeWait: 50 });
    const b = new Endpoint(prngEnv(new Prng(4)), {});
    b.listen();
    let now = 0;
    const pump = (): void => {
      for (let any = true; any; ) {
        any = false;
        for (let d = a.pollTransmit(); d; d = a.pollTransmit(), any = true) b.handleDatagram(d.data, A, now);
        for (let d = b.pollTransmit(); d; d = b.pollTransmit(), any = true) a.handleDatagram(d.data, B, now);
        for (let e = b.pollEvent(); e; e = b.pollEvent(), any = true) {
          if (e.type === 'conn' && e.ev.type === 'end') {
            e.conn.shutdown();
            b.service(e.conn, now);
          }
        }
        while (a.pollEvent());
      }
    };
    for (let i = 0; i < 400; i++) {
      const c = a.connect(B, now);
      pump();
      c.shutdown(); // a closes first: a keeps the TIME_WAIT record
      a.service(c, now);
      pump();
      now += 1;
      a.handleTimeout(now);
      b.handleTimeout(now);
      pump();
    }
    expect(a.timeWaitCount).toBe(50);
    expect(a.connectionCount).toBe(0);
    // A FIN landing on a record that was evicted gets an RST, not a crash.
    a.handleDatagram(encode(seg({ flags: ACK | FIN, dstId: 12345, srcId: 1 })), B, now);
    expect(a.stats.noConnection).toBeGreaterThanOrEqual(1);
  });

  it('pending path validations are bounded (one per connection, 1024 in all)', () => {
    const stats: PathStats = { unvalidatedPath: 0, pathChallenges: 0, pathChallengesLimited: 0, pathResponses: 0, pathMigrations: 0 };
    const pv = new PathValidator(prngEnv(new Prng(5)), stats, () => {}, 1024);
    // Stand-ins with just what the validator reads: every segment is fresh and acceptable.
    const fake = (id: number): Connection =>
      ({ localId: id, remoteId: 7, rtt: { rto: 200 }, acceptsFresh: () => true, probeSegment: () => seg({ dstId: 7, srcId: id }) }) as unknown as Connection;
    for (let id = 1; id <= 5_000; id++) {
      const c = fake(id);
      pv.fromOtherAddress(c, seg({ dstId: id, srcId: 7 }), { address: '10.6.6.6', port: id }, 1200, 0);
      pv.fromOtherAddress(c, seg({ dstId: id, srcId: 7 }), { address: '10.6.6.7', port: id }, 1200, 0);
    }
    expect(stats.pathChallenges).toBe(5_000);
    expect(pv.size).toBe(1024);
  });
});
