// Connection ids carry their owner when processes share a port (SO_REUSEPORT, as QUIC-LB):
// a datagram for a sibling's id is dropped, never answered with RST.
import { describe, expect, it } from 'vitest';
import { Endpoint, type EndpointOptions } from '../../src/endpoint/endpoint.js';
import type { Address } from '../../src/endpoint/types.js';
import { Prng, prngEnv } from '../../src/sim/prng.js';
import { ACK, RST, SYN, decode, encode, type Segment } from '../../src/wire/segment.js';

const A: Address = { address: '10.0.0.1', port: 1000 };
const B: Address = { address: '10.0.0.2', port: 2000 };

function endpoint(seed: number, opts: EndpointOptions = {}): Endpoint {
  return new Endpoint(prngEnv(new Prng(seed)), { connection: { pacing: false }, ...opts });
}

function seg(over: Partial<Segment>): Segment {
  return { flags: ACK, dstId: 0, srcId: 0x1234, seq: 100, ack: 200, window: 1000, tsVal: 5, tsEcr: 0, payload: new Uint8Array(0), ...over };
}

function sent(e: Endpoint): Segment[] {
  const out: Segment[] = [];
  for (let d = e.pollTransmit(); d; d = e.pollTransmit()) {
    const r = decode(d.data);
    if (!r.ok) throw new Error(r.reason);
    out.push(r.segment);
  }
  return out;
}

const top8 = (id: number): number => id >>> 24;

describe('owner ids (reusePort siblings)', () => {
  it('every connection id, active or passive, carries the owner id in its top bits', () => {
    const e = endpoint(1, { owner: { bits: 8, id: 0xa5 } });
    for (let i = 0; i < 50; i++) expect(top8(e.connect({ address: '10.0.1.1', port: 100 + i }, 0).localId)).toBe(0xa5);
    e.listen();
    for (let i = 1; i <= 50; i++) e.handleDatagram(encode(seg({ flags: SYN, srcId: i, seq: i * 1000 })), A, 0);
    const synAcks = sent(e).filter((s) => (s.flags & (SYN | ACK)) === (SYN | ACK));
    expect(synAcks).toHaveLength(50);
    for (const s of synAcks) expect(top8(s.srcId)).toBe(0xa5);
  });

  it('SYN cookie ids carry it too (the backlog is full)', () => {
    const e = endpoint(2, { owner: { bits: 8, id: 7 }, backlog: 1 });
    e.listen(1);
    for (let i = 1; i <= 20; i++) e.handleDatagram(encode(seg({ flags: SYN, srcId: i, seq: i * 1000 })), A, 0);
    expect(e.stats.backlogFull).toBe(19);
    const synAcks = sent(e).filter((s) => (s.flags & (SYN | ACK)) === (SYN | ACK));
    expect(synAcks).toHaveLength(20);
    for (const s of synAcks) expect(top8(s.srcId)).toBe(7);
  });

  it("a datagram for a sibling's id is dropped and counted, not answered with RST; an unknown id of our own still gets RST", () => {
    const e = endpoint(3, { owner: { bits: 8, id: 1 } });
    e.listen();
    e.handleDatagram(encode(seg({ dstId: (2 << 24) | 0x123456, srcId: 99, payload: new Uint8Array(10) })), B, 0);
    expect(sent(e)).toEqual([]);
    expect(e.stats.siblingIds).toBe(1);
    expect(e.stats.rstSent).toBe(0);
    e.handleDatagram(encode(seg({ dstId: (1 << 24) | 0x123456, srcId: 99 })), B, 0);
    const out = sent(e);
    expect(out).toHaveLength(1);
    expect(out[0]!.flags & RST).toBe(RST);
    expect(e.stats.siblingIds).toBe(1);
  });

  it('without an owner, every unknown id gets RST (as before)', () => {
    const e = endpoint(4);
    e.handleDatagram(encode(seg({ dstId: (2 << 24) | 0x123456 })), B, 0);
    expect(sent(e)).toHaveLength(1);
    expect(e.stats.siblingIds).toBe(0);
  });

  it('an owner outside bits is refused', () => {
    expect(() => endpoint(5, { owner: { bits: 8, id: 256 } })).toThrow(RangeError);
    expect(() => endpoint(5, { owner: { bits: 0, id: 0 } })).toThrow(RangeError);
    expect(() => endpoint(5, { owner: { bits: 17, id: 1 } })).toThrow(RangeError);
  });
});
