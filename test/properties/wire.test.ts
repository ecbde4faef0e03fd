// docs/ARCHITECTURE.md, invariants 11 and 12: the wire format round-trips and never
// throws, and the simulator is a function of its seed.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Endpoint } from '../../src/endpoint/endpoint.js';
import { prngEnv, Prng } from '../../src/sim/prng.js';
import { ACK, FIN, MAX_SACK_BLOCKS, PATH_DATA_SIZE, RST, SYN, decode, encode, type Segment } from '../../src/wire/segment.js';
import { runScenario, runs, scenarioArb } from './harness.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });

/** Every segment the format can carry: valid flag combinations, options only where allowed. */
const segmentArb: fc.Arbitrary<Segment> = fc
  .record({
    flags: fc.integer({ min: 0, max: 31 }).filter((f) => !(f & SYN && f & (RST | FIN)) && (f & (SYN | RST | ACK)) !== 0),
    dstId: u32,
    srcId: u32,
    seq: u32,
    ack: u32,
    window: u32,
    tsVal: u32,
    tsEcr: u32,
    mss: fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined }),
    sackPermitted: fc.boolean(),
    sack: fc.array(fc.record({ start: u32, end: u32 }), { maxLength: MAX_SACK_BLOCKS }),
    pathChallenge: fc.option(fc.uint8Array({ minLength: PATH_DATA_SIZE, maxLength: PATH_DATA_SIZE }), { nil: undefined }),
    pathResponse: fc.option(fc.uint8Array({ minLength: PATH_DATA_SIZE, maxLength: PATH_DATA_SIZE }), { nil: undefined }),
    payload: fc.uint8Array({ maxLength: 300 }),
  })
  .map((r) => {
    const syn = (r.flags & SYN) !== 0;
    const s: Segment = {
      flags: r.flags,
      dstId: syn && !(r.flags & ACK) ? 0 : r.dstId,
      srcId: r.srcId,
      seq: r.seq,
      ack: r.ack,
      window: r.window,
      tsVal: r.tsVal,
      tsEcr: r.tsEcr,
      payload: r.flags & RST ? new Uint8Array(0) : r.payload,
    };
    if (syn && r.mss !== undefined) s.mss = r.mss;
    if (syn && r.sackPermitted) s.sackPermitted = true;
    if (r.sack.length > 0) s.sack = r.sack;
    if (!syn && r.pathChallenge) s.pathChallenge = r.pathChallenge;
    if (!syn && r.pathResponse) s.pathResponse = r.pathResponse;
    return s;
  });

describe('properties: wire format, determinism', () => {
  it('invariant 11: decode(encode(s)) equals s for every segment; decode never throws on any bytes', () => {
    fc.assert(
      fc.property(segmentArb, (s) => {
        const d = decode(encode(s));
        expect(d.ok).toBe(true);
        if (d.ok) expect(d.segment).toEqual(s);
      }),
      { numRuns: runs(5000) },
    );
    // Arbitrary bytes, and valid encodings with bytes flipped or cut: never a throw; whatever decodes
    // re-encodes to bytes that decode to the same segment; an endpoint swallows it all.
    const ep = new Endpoint(prngEnv(new Prng(1)));
    ep.listen();
    const mangled = fc.tuple(segmentArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 4 }), fc.nat()).map(([s, flips, cut]) => {
      const b = encode(s).slice();
      for (const [i, x] of flips) b[i % b.length]! ^= x;
      return b.subarray(0, b.length - (cut % 4 === 0 ? cut % b.length : 0));
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), mangled), (bytes) => {
        const d = decode(bytes);
        if (d.ok) expect(decode(encode(d.segment))).toEqual(d);
        expect(() => ep.handleDatagram(bytes, { address: '10.9.9.9', port: 9 }, 0)).not.toThrow();
      }),
      { numRuns: runs(5000) },
    );
  });

  it('invariant 12: same seed, same trace (and a different seed, a different one)', () => {
    fc.assert(
      fc.property(scenarioArb({ simultaneous: true, destroy: true, injections: true, corrupt: true }), (sc) => {
        const a = runScenario(sc).net;
        const b = runScenario(sc).net;
        expect(b.trace.length).toBe(a.trace.length);
        expect(b.traceHash()).toBe(a.traceHash());
        const c = runScenario({ ...sc, seed: (sc.seed % 0x7ffffffe) + 1 }).net;
        expect(c.traceHash()).not.toBe(a.traceHash());
      }),
      { numRuns: runs(200) },
    );
  });
});
