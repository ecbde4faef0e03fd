import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ACK,
  FIN,
  HEADER_SIZE,
  MAX_SACK_BLOCKS,
  PATH_DATA_SIZE,
  RST,
  SYN,
  VERSION,
  decode,
  decodeInto,
  emptySegment,
  encode,
  encodedSize,
  flagsToString,
  segmentLength,
  type DecodeError,
  type Segment,
} from '../src/wire/segment.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqInRange, seqLe, seqLt, seqMax, seqMin, seqSearch } from '../src/wire/seq.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });

/** Flag combinations decode accepts (IMMEDIATE_ACK included): at least one of SYN/RST/ACK, and no SYN with RST or FIN. */
const validFlags = fc.integer({ min: 0, max: 31 }).filter((f) => (f & (SYN | RST | ACK)) !== 0 && !(f & SYN && f & (RST | FIN)));

const pathData = fc.uint8Array({ minLength: PATH_DATA_SIZE, maxLength: PATH_DATA_SIZE });
const sackBlocks = fc.array(fc.record({ start: u32, end: u32 }), { minLength: 1, maxLength: MAX_SACK_BLOCKS });

/** Any segment `decode` accepts, in the canonical form `decode` returns. */
const segmentArb: fc.Arbitrary<Segment> = validFlags.chain((flags) => {
  const syn = (flags & SYN) !== 0;
  return fc.record({
    flags: fc.constant(flags),
    dstId: syn && !(flags & ACK) ? fc.constant(0) : u32,
    srcId: u32,
    seq: u32,
    ack: u32,
    window: u32,
    tsVal: u32,
    tsEcr: u32,
    mss: syn ? fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined }) : fc.constant(undefined),
    sackPermitted: syn ? fc.constantFrom(true, undefined) : fc.constant(undefined),
    sack: fc.option(sackBlocks, { nil: undefined }),
    pathChallenge: syn ? fc.constant(undefined) : fc.option(pathData, { nil: undefined }),
    pathResponse: syn ? fc.constant(undefined) : fc.option(pathData, { nil: undefined }),
    payload: flags & RST ? fc.constant(new Uint8Array(0)) : fc.uint8Array({ maxLength: 64 }),
  });
});

function base(over: Partial<Segment> = {}): Segment {
  return { flags: ACK, dstId: 7, srcId: 9, seq: 1, ack: 2, window: 3, tsVal: 4, tsEcr: 5, payload: new Uint8Array(0), ...over };
}

/** Header bytes for a hand-made datagram: `opts` go in the options area, `payload` after it. */
function raw(h: { version?: number; flags?: number; dstId?: number; optLen?: number }, opts: number[] = [], payload: number[] = []): Uint8Array {
  const b = new Uint8Array(HEADER_SIZE + opts.length + payload.length);
  const dv = new DataView(b.buffer);
  dv.setUint8(0, h.version ?? VERSION);
  dv.setUint8(1, h.flags ?? ACK);
  dv.setUint16(2, h.optLen ?? opts.length);
  dv.setUint32(4, h.dstId ?? 7);
  b.set(opts, HEADER_SIZE);
  b.set(payload, HEADER_SIZE + opts.length);
  return b;
}

function ok(buf: Uint8Array): Segment {
  const r = decode(buf);
  if (!r.ok) throw new Error(`decode failed: ${r.reason}`);
  return r.segment;
}

/** Byte arrays as plain arrays, so that views and copies compare equal. */
function plain(s: Segment): unknown {
  const o: Record<string, unknown> = { ...s, payload: Array.from(s.payload) };
  if (s.pathChallenge) o.pathChallenge = Array.from(s.pathChallenge);
  if (s.pathResponse) o.pathResponse = Array.from(s.pathResponse);
  return o;
}

describe('wire: encode/decode', () => {
  it('round-trips every header field and the payload', () => {
    const s = base({
      flags: ACK | FIN,
      dstId: 0xffffffff,
      srcId: 0x80000000,
      seq: 0xfffffffe,
      ack: 1,
      window: 0xffffffff,
      tsVal: 123456789,
      tsEcr: 0xdeadbeef,
      payload: new Uint8Array([1, 2, 3]),
    });
    const buf = encode(s);
    expect(buf.length).toBe(HEADER_SIZE + 3);
    expect(encodedSize(s)).toBe(buf.length);
    expect(plain(ok(buf))).toEqual(plain(s));
  });

  it.each([
    ['SYN', SYN],
    ['SYN|ACK', SYN | ACK],
    ['ACK', ACK],
    ['FIN|ACK', FIN | ACK],
    ['RST', RST],
    ['RST|ACK', RST | ACK],
    ['RST|FIN|ACK', RST | FIN | ACK],
  ])('round-trips flags %s', (_name, flags) => {
    const s = base({ flags, dstId: flags === SYN ? 0 : 7 });
    const d = ok(encode(s));
    expect(d.flags).toBe(flags);
    expect(flagsToString(d.flags)).toBe(flagsToString(flags));
  });

  it('round-trips MSS, SACK-permitted and SACK blocks, in that order on the wire', () => {
    const s = base({
      flags: SYN | ACK,
      mss: 1460,
      sackPermitted: true,
      sack: [
        { start: 0xfffffff0, end: 16 },
        { start: 100, end: 200 },
      ],
    });
    const buf = encode(s);
    expect(new DataView(buf.buffer, buf.byteOffset).getUint16(2)).toBe(4 + 2 + 2 + 16);
    expect(Array.from(buf.subarray(HEADER_SIZE, HEADER_SIZE + 8))).toEqual([1, 2, 0x05, 0xb4, 2, 0, 3, 16]);
    expect(plain(ok(buf))).toEqual(plain(s));
  });

  it('round-trips PATH_CHALLENGE and PATH_RESPONSE (8 bytes each)', () => {
    const s = base({ pathChallenge: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), pathResponse: new Uint8Array([8, 7, 6, 5, 4, 3, 2, 1]) });
    const buf = encode(s);
    expect(buf.length).toBe(HEADER_SIZE + 2 * (2 + PATH_DATA_SIZE));
    expect(plain(ok(buf))).toEqual(plain(s));
  });

  it('encodes at most MAX_SACK_BLOCKS blocks', () => {
    const sack = Array.from({ length: MAX_SACK_BLOCKS + 2 }, (_, i) => ({ start: i * 10, end: i * 10 + 5 }));
    const d = ok(encode(base({ sack })));
    expect(d.sack).toEqual(sack.slice(0, MAX_SACK_BLOCKS));
  });

  it('encodes into a caller buffer and refuses one too small', () => {
    const s = base({ payload: new Uint8Array([9, 9]) });
    const out = new Uint8Array(100);
    const view = encode(s, out);
    expect(view.buffer).toBe(out.buffer);
    expect(view.length).toBe(encodedSize(s));
    expect(() => encode(s, new Uint8Array(HEADER_SIZE))).toThrow(RangeError);
  });

  it('decodes a datagram at a non-zero offset in its buffer; the payload is a view', () => {
    const s = base({ payload: new Uint8Array([5, 6, 7]) });
    const big = new Uint8Array(10 + encodedSize(s));
    encode(s, big.subarray(10));
    const d = ok(big.subarray(10));
    expect(plain(d)).toEqual(plain(s));
    expect(d.payload.buffer).toBe(big.buffer);
  });

  it('segmentLength counts payload plus one for SYN and one for FIN', () => {
    expect(segmentLength({ flags: SYN, payload: new Uint8Array(0) })).toBe(1);
    expect(segmentLength({ flags: ACK | FIN, payload: new Uint8Array(10) })).toBe(11);
    expect(segmentLength({ flags: ACK, payload: new Uint8Array(10) })).toBe(10);
  });

  it('skips unknown options', () => {
    const buf = raw({ flags: SYN, dstId: 0 }, [99, 3, 0xaa, 0xbb, 0xcc, 1, 2, 0x04, 0x00, 200, 0]);
    const d = ok(buf);
    expect(d.mss).toBe(1024);
    expect(d.sackPermitted).toBeUndefined();
  });

  it('property: decode(encode(s)) equals s', () => {
    fc.assert(
      fc.property(segmentArb, (s) => {
        const buf = encode(s);
        expect(buf.length).toBe(encodedSize(s));
        expect(plain(ok(buf))).toEqual(plain(s));
      }),
    );
  });

  it('property: encoding into uninitialised (pooled) memory writes every byte: same bytes as a fresh buffer', () => {
    fc.assert(
      fc.property(segmentArb, fc.integer({ min: 0, max: 255 }), (s, junk) => {
        const out = new Uint8Array(encodedSize(s) + 3).fill(junk);
        expect([...encode(s, out.subarray(1, 1 + encodedSize(s)))]).toEqual([...encode(s)]);
        expect(out[0]).toBe(junk); // nothing written outside the target
        expect(out[out.length - 1]).toBe(junk);
      }),
    );
  });
});

describe('wire: decoding into one reused object (the receive loop)', () => {
  it('property: decodeInto after any earlier datagrams, good or bad, gives what a fresh decode gives', () => {
    // Options, SACK blocks and path data from an earlier segment must not survive into a later one.
    const datagram = fc.oneof(
      segmentArb.map((s) => encode(s)),
      fc.uint8Array({ maxLength: 80 }),
    );
    fc.assert(
      fc.property(fc.array(datagram, { minLength: 1, maxLength: 8, size: 'max' }), (bufs) => {
        const seg = emptySegment();
        for (const b of bufs) {
          const fresh = decode(b);
          const bad = decodeInto(b, seg);
          if (!fresh.ok) {
            expect(bad).toBe(fresh.reason);
            continue;
          }
          expect(bad).toBeUndefined();
          expect(plain(seg)).toStrictEqual(plain({ ...emptySegment(), ...fresh.segment }));
        }
      }),
    );
  });
});

describe('wire: validation (a bad datagram is rejected with a reason, never thrown)', () => {
  const cases: Array<[DecodeError, Uint8Array]> = [
    ['short', new Uint8Array(HEADER_SIZE - 1)],
    ['version', raw({ version: 2 })],
    ['reserved-flags', raw({ flags: ACK | 0x20 })],
    ['bad-flags', raw({ flags: SYN | RST, dstId: 0 })],
    ['bad-flags', raw({ flags: SYN | FIN, dstId: 0 })],
    ['bad-flags', raw({ flags: FIN })],
    ['bad-flags', raw({ flags: 0 })],
    ['options-length', raw({ optLen: 1 })],
    ['option-truncated', raw({}, [99])],
    ['option-truncated', raw({}, [99, 4, 0, 0])],
    ['option-length', raw({ flags: SYN, dstId: 0 }, [1, 1, 0])],
    ['option-length', raw({ flags: SYN, dstId: 0 }, [2, 1, 0])],
    ['option-length', raw({}, [3, 0])],
    ['option-length', raw({}, [3, 4, 0, 0, 0, 0])],
    ['option-length', raw({}, [3, 136, ...new Array<number>(136).fill(0)])],
    ['syn-option-on-non-syn', raw({}, [1, 2, 4, 0])],
    ['syn-option-on-non-syn', raw({}, [2, 0])],
    ['option-length', raw({}, [4, 4, 1, 2, 3, 4])],
    ['path-option-on-syn', raw({ flags: SYN, dstId: 0 }, [4, 8, 1, 2, 3, 4, 5, 6, 7, 8])],
    ['path-option-on-syn', raw({ flags: SYN | ACK }, [5, 8, 1, 2, 3, 4, 5, 6, 7, 8])],
    ['rst-with-payload', raw({ flags: RST }, [], [1])],
    ['syn-with-dst', raw({ flags: SYN, dstId: 5 })],
  ];
  it.each(cases)('rejects with %s', (reason, buf) => {
    expect(decode(buf)).toEqual({ ok: false, reason });
  });

  it('accepts a SYN-ACK with a destination id and an RST without payload', () => {
    expect(decode(raw({ flags: SYN | ACK, dstId: 5 })).ok).toBe(true);
    expect(decode(raw({ flags: RST })).ok).toBe(true);
  });

  const reasons: readonly string[] = [
    'short',
    'version',
    'reserved-flags',
    'bad-flags',
    'options-length',
    'option-truncated',
    'option-length',
    'syn-option-on-non-syn',
    'path-option-on-syn',
    'rst-with-payload',
    'syn-with-dst',
  ];

  /** Whatever decode accepts, it accepts again after a re-encode, unchanged. */
  function checkStable(buf: Uint8Array): void {
    const r = decode(buf);
    if (!r.ok) {
      expect(reasons).toContain(r.reason);
      return;
    }
    expect(plain(ok(encode(r.segment)))).toEqual(plain(r.segment));
  }

  it('property: decode never throws on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 128 }), (b) => checkStable(b)));
  });

  it('property: decode never throws on arbitrary headers with version 1', () => {
    const hdr = fc.tuple(fc.uint8Array({ minLength: HEADER_SIZE - 1, maxLength: 80 }), fc.integer({ min: 0, max: 0xff }));
    fc.assert(
      fc.property(hdr, ([b, flags]) => {
        const buf = new Uint8Array(b.length + 1);
        buf.set(b, 1);
        buf[0] = VERSION;
        buf[1] = flags;
        checkStable(buf);
      }),
    );
  });

  it('property: decode never throws on mutated valid encodings', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('grow' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
    );
    fc.assert(
      fc.property(segmentArb, fc.array(mutation, { minLength: 1, maxLength: 4 }), (s, muts) => {
        let buf = Uint8Array.from(encode(s));
        for (const m of muts) {
          if (m.kind === 'grow') buf = Uint8Array.from([...buf, ...m.extra]);
          else if (buf.length === 0) continue;
          else if (m.kind === 'cut') buf = buf.slice(0, m.at % buf.length);
          else if (m.kind === 'flip') buf[m.at % buf.length]! ^= 1 << m.bit;
          else buf[m.at % buf.length] = m.value;
        }
        checkStable(buf);
      }),
    );
  });
});

describe('wire: sequence arithmetic mod 2^32 (RFC 9293 §3.4)', () => {
  const MAX = 0xffffffff;

  it('compares across the wrap', () => {
    expect(seqLt(MAX, 0)).toBe(true);
    expect(seqGt(0, MAX)).toBe(true);
    expect(seqLe(MAX, MAX)).toBe(true);
    expect(seqGe(5, 0xfffffff0)).toBe(true);
    expect(seqLt(0x7fffffff, 0x80000000)).toBe(true);
    expect(seqMax(MAX, 3)).toBe(3);
    expect(seqMin(MAX, 3)).toBe(MAX);
  });

  it('adds and subtracts across the wrap', () => {
    expect(seqAdd(MAX, 1)).toBe(0);
    expect(seqAdd(MAX, 10)).toBe(9);
    expect(seqAdd(3, -5)).toBe(MAX - 1);
    expect(seqDiff(0, MAX)).toBe(1);
    expect(seqDiff(MAX, 0)).toBe(-1);
    expect(seqDiff(5, 0xfffffff0)).toBe(21);
  });

  it('property: seqSearch finds what a scan finds, across the wrap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: MAX }),
        fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 30, size: 'max' }),
        fc.integer({ min: -100, max: 1600 }),
        fc.boolean(),
        (base, gaps, off, orAt) => {
          let at = 0;
          const keys = gaps.map((g) => seqAdd(base, (at += g))); // non-decreasing from base
          const seq = seqAdd(base, off);
          const scan = keys.findIndex((k) => (orAt ? seqGe(k, seq) : seqGt(k, seq)));
          expect(seqSearch(keys, (k) => k, base, seq, orAt)).toBe(scan < 0 ? keys.length : scan);
        },
      ),
      { seed: 4247, numRuns: 300 },
    );
  });

  it('seqDiff lies in [-2^31, 2^31)', () => {
    expect(seqDiff(0x80000000, 0)).toBe(-0x80000000);
    expect(seqDiff(0x7fffffff, 0)).toBe(0x7fffffff);
  });

  it('seqInRange is lo <= x < hi across the wrap', () => {
    expect(seqInRange(0, 0xfffffff0, 0x10)).toBe(true);
    expect(seqInRange(0xfffffff0, 0xfffffff0, 0x10)).toBe(true);
    expect(seqInRange(0x10, 0xfffffff0, 0x10)).toBe(false);
    expect(seqInRange(0xffffffef, 0xfffffff0, 0x10)).toBe(false);
    expect(seqInRange(5, 5, 5)).toBe(false);
  });

  const delta = fc.integer({ min: -(2 ** 31 - 1), max: 2 ** 31 - 1 });

  it('property: seqDiff(seqAdd(a, d), a) === d and the order follows the sign of d', () => {
    fc.assert(
      fc.property(u32, delta, (a, d) => {
        const b = seqAdd(a, d);
        expect(b).toBeGreaterThanOrEqual(0);
        expect(b).toBeLessThanOrEqual(MAX);
        expect(seqDiff(b, a)).toBe(d);
        expect(seqLt(a, b)).toBe(d > 0);
        expect(seqGt(a, b)).toBe(d < 0);
        expect(seqLe(a, b)).toBe(d >= 0);
        expect(seqGe(a, b)).toBe(d <= 0);
        expect(seqMax(a, b)).toBe(d >= 0 ? b : a);
      }),
    );
  });

  it('property: seqInRange(x, lo, lo + n) iff 0 <= x - lo < n', () => {
    fc.assert(
      fc.property(u32, fc.integer({ min: 0, max: 2 ** 31 - 1 }), delta, (lo, n, d) => {
        const x = seqAdd(lo, d);
        expect(seqInRange(x, lo, seqAdd(lo, n))).toBe(d >= 0 && d < n);
      }),
    );
  });
});
